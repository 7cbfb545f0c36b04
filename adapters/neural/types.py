"""The neural engine's plain data: its hyperparameters, what it answers (predictions,
recommendations), the versions of its parameters, and the error of asking too early."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class EngineConfig:
    """Hyperparameters; the defaults are those the evaluation reports."""

    hidden: int = 64
    dropout: float = 0.2
    learning_rate: float = 2e-3
    batch_size: int = 128
    seed: int = 0
    max_epochs: int = 60
    patience: int = 6
    holdout: float = 0.15
    update_every: int = 256
    """New examples that trigger an incremental update."""
    update_epochs: int = 2
    replay_ratio: float = 1.0
    replay_capacity: int = 20_000
    disabled_features: tuple[str, ...] = ("required_capability_ids", "agent_capability_ids")
    """Groups of :data:`PAIR_GROUPS` the outcome and duration models leave out. The
    capability ids are off by default: coverage and overlap carry what capabilities
    mean in the simulator's world, and the 128 id units only add variance there (on
    the evaluation they cost about 0.3 points of accuracy). Real workloads may differ."""


@dataclass(frozen=True)
class Prediction:
    """Class probabilities, the most likely label, and a confidence of
    1 - entropy / max entropy (1: certain, 0: uniform)."""

    probabilities: tuple[float, ...]
    labels: tuple[str, ...]
    label: str
    confidence: float
    model_version: int

    @property
    def probability(self) -> float:
        """The probability of the predicted label."""
        return max(self.probabilities)


@dataclass(frozen=True)
class Recommendation:
    """A candidate agent ranked by its predicted probability of completing the task."""

    agent_id: str
    name: str
    probability: float
    confidence: float
    model_version: int


@dataclass(frozen=True)
class ModelVersion:
    """One version of the engine's parameters and what it learned from."""

    number: int
    kind: Literal["full", "incremental", "imported"]
    first_position: int
    last_position: int
    examples: int
    validation: dict[str, dict[str, float]] = field(default_factory=dict)


class NotTrained(RuntimeError):
    """A prediction was asked of an engine that has not been trained yet."""
