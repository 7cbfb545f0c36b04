"""The neural pattern engine: three classifiers over the examples the log yields.

Patterns:

- ``outcome``: P(completed | task, agent at assignment, swarm), classes :data:`OUTCOMES`;
- ``duration``: the attempt's duration bucket (see :data:`DURATION_EDGES`);
- ``coordination``: which agent type completes a task (task and swarm only).

``train`` retrains every pattern from scratch on the examples given (in log order);
``observe`` buffers new examples and, once ``update_every`` have arrived, updates
each model on them mixed with replayed old ones. Every change of the parameters is
a new :class:`ModelVersion` that records the span of log positions it learned from.
The facade speaks only in plain facts (:mod:`adapters.neural.features`) and NumPy;
callers never see JAX.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, Literal

import numpy as np

from adapters.neural.classifier import HOST_ROWS, Classifier, Floats, Ints
from adapters.neural.features import (
    AGENT_TYPES,
    DURATION_EDGES,
    FEATURE_VERSION,
    OUTCOMES,
    PAIR_SIZE,
    TASK_SIZE,
    AgentFacts,
    Candidate,
    Example,
    SwarmFacts,
    TaskFacts,
    encode_pair,
    encode_pairs,
    encode_task,
    encode_tasks,
    pair_mask,
)
from adapters.neural.metrics import Metrics, measure, normalized_entropy
from adapters.neural.model import ModelSpec
from adapters.neural.types import EngineConfig, ModelVersion, NotTrained, Prediction, Recommendation

Pattern = Literal["outcome", "duration", "coordination"]
PATTERNS: tuple[Pattern, ...] = ("outcome", "duration", "coordination")
DURATION_LABELS: tuple[str, ...] = tuple(
    [f"<{int(e)}s" for e in DURATION_EDGES] + [f">={int(DURATION_EDGES[-1])}s"]
)
CLASS_LABELS: dict[Pattern, tuple[str, ...]] = {
    "outcome": OUTCOMES,
    "duration": DURATION_LABELS,
    "coordination": AGENT_TYPES,
}


def _labels(pattern: Pattern, examples: Sequence[Example]) -> list[int | None]:
    if pattern == "outcome":
        return [e.outcome for e in examples]
    if pattern == "duration":
        return [e.duration_bucket for e in examples]
    return [e.coordination for e in examples]


def dataset(
    pattern: Pattern, examples: Sequence[Example], mask: Floats | None = None
) -> tuple[Floats, Ints]:
    """Inputs and labels of one pattern (examples without its label left out); pair
    inputs are multiplied by ``mask`` when given (see :func:`pair_mask`)."""
    labelled = [(e, y) for e, y in zip(examples, _labels(pattern, examples), strict=True)]
    kept = [(e, y) for e, y in labelled if y is not None]
    rows = [e for e, _ in kept]
    if pattern == "coordination":
        x = encode_tasks(rows)
    else:
        x = encode_pairs(rows) if mask is None else encode_pairs(rows) * mask
    return x, np.asarray([y for _, y in kept], dtype=np.int32)


def _padded(x: Floats) -> Floats:
    """Pad to a power of two (at least 8) rows, so the compiled function is reused."""
    size = max(8, 1 << (len(x) - 1).bit_length())
    if size == len(x):
        return x
    out = np.zeros((size, x.shape[1]), np.float32)
    out[: len(x)] = x
    return out


class NeuralEngine:
    """Train, update, predict, recommend, serialize; see the module docstring."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.mask = pair_mask(self.config.disabled_features)
        self.models: dict[Pattern, Classifier] = {
            pattern: Classifier(self._spec(pattern), self.config.replay_capacity)
            for pattern in PATTERNS
        }
        self.version: ModelVersion | None = None
        self.history: list[ModelVersion] = []
        self.pending: list[Example] = []

    def _spec(self, pattern: Pattern) -> ModelSpec:
        c = self.config
        return ModelSpec(
            inputs=TASK_SIZE if pattern == "coordination" else PAIR_SIZE,
            classes=len(CLASS_LABELS[pattern]),
            hidden=c.hidden,
            dropout=c.dropout,
            learning_rate=c.learning_rate,
            batch_size=c.batch_size,
            seed=c.seed + PATTERNS.index(pattern),
        )

    # ------------------------------------------------------------------ learning
    def train(
        self, examples: Sequence[Example], on_pattern: Callable[[str], None] | None = None
    ) -> ModelVersion:
        """Retrain every pattern from scratch on ``examples`` (in log order);
        ``on_pattern(pattern)`` is called as each pattern's training ends."""
        c = self.config
        validation: dict[str, dict[str, float]] = {}
        for pattern, model in self.models.items():
            x, y = dataset(pattern, examples, self.mask)
            found = model.fit(x, y, max_epochs=c.max_epochs, patience=c.patience, holdout=c.holdout)
            if found is not None:
                validation[pattern] = found.as_dict()
            if on_pattern is not None:
                on_pattern(pattern)
        self.pending = []
        first = examples[0].position if examples else 0
        return self._new_version("full", first, examples, validation)

    def observe(self, examples: Sequence[Example]) -> ModelVersion | None:
        """Take new examples; train on them once ``update_every`` have gathered (the
        first time, a full training). Returns the new version, if one was made."""
        self.pending.extend(examples)
        if len(self.pending) < self.config.update_every:
            return None
        batch, self.pending = self.pending, []
        if self.version is None:
            return self.train(batch)
        return self.update(batch)

    def update(self, examples: Sequence[Example]) -> ModelVersion:
        """Update a trained engine on ``examples`` mixed with replayed old ones, now
        (whatever their number): the new, ``incremental`` version."""
        self._require()
        for pattern, model in self.models.items():
            x, y = dataset(pattern, examples, self.mask)
            model.update(
                x, y, epochs=self.config.update_epochs, replay_ratio=self.config.replay_ratio
            )
        first = examples[0].position if examples else 0
        return self._new_version("incremental", first, examples, {})

    def _new_version(
        self,
        kind: Literal["full", "incremental"],
        first: int,
        examples: Sequence[Example],
        validation: dict[str, dict[str, float]],
    ) -> ModelVersion:
        number = 1 if self.version is None else self.version.number + 1
        if kind == "incremental" and self.version is not None:
            first = self.version.first_position
        last = examples[-1].position if examples else 0
        seen = len(examples)
        if kind == "incremental" and self.version is not None:
            seen += self.version.examples
        self.version = ModelVersion(number, kind, first, last, seen, validation)
        self.history.append(self.version)
        return self.version

    # ------------------------------------------------------------------ predicting
    def _require(self) -> int:
        if self.version is None:
            raise NotTrained("the neural engine has not been trained yet")
        return self.version.number

    def _predict(self, pattern: Pattern, x: Floats) -> Prediction:
        number = self._require()
        p = self.models[pattern].probabilities(x[None, :])[0].astype(np.float64)
        labels = CLASS_LABELS[pattern]
        return Prediction(
            probabilities=tuple(float(v) for v in p),
            labels=labels,
            label=labels[int(np.argmax(p))],
            confidence=float(1.0 - normalized_entropy(p[None, :])[0]),
            model_version=number,
        )

    def predict_outcome(
        self, task: TaskFacts, agent: AgentFacts, swarm: SwarmFacts | None = None
    ) -> Prediction:
        """Will ``agent`` (as it is now) complete ``task``? Labels ``failed``/``completed``."""
        x = encode_pair(task, agent, swarm or SwarmFacts()) * self.mask
        return self._predict("outcome", x)

    def predict_duration(
        self, task: TaskFacts, agent: AgentFacts, swarm: SwarmFacts | None = None
    ) -> Prediction:
        x = encode_pair(task, agent, swarm or SwarmFacts()) * self.mask
        return self._predict("duration", x)

    def predict_coordination(self, task: TaskFacts, swarm: SwarmFacts | None = None) -> Prediction:
        """Which agent type is most likely to be the one that completes ``task``."""
        return self._predict("coordination", encode_task(task, swarm or SwarmFacts()))

    def success_probabilities(
        self, task: TaskFacts, agents: Sequence[AgentFacts], swarm: SwarmFacts | None = None
    ) -> Floats:
        """P(completed) of each agent, in one compiled call."""
        self._require()
        if not agents:
            return np.zeros(0, np.float32)
        facts = swarm or SwarmFacts()
        x = np.stack([encode_pair(task, agent, facts) for agent in agents]) * self.mask
        model = self.models["outcome"]
        rows = x if len(x) <= HOST_ROWS else _padded(x)
        return model.probabilities(rows)[: len(agents), 1]

    def recommend(
        self,
        task: TaskFacts,
        candidates: Sequence[Candidate],
        k: int = 1,
        swarm: SwarmFacts | None = None,
    ) -> list[Recommendation]:
        """The ``k`` candidates most likely to complete ``task``, best first (ties in
        the order given, which for assignment is turn order)."""
        p = self.success_probabilities(task, [c.agent for c in candidates], swarm)
        number = self._require()
        order = sorted(range(len(candidates)), key=lambda i: (-float(p[i]), i))[: max(0, k)]
        confidence = normalized_entropy(np.stack([1.0 - p, p], axis=1).astype(np.float64))
        return [
            Recommendation(
                agent_id=candidates[i].agent_id,
                name=candidates[i].name,
                probability=float(p[i]),
                confidence=float(1.0 - confidence[i]),
                model_version=number,
            )
            for i in order
        ]

    def evaluate(self, examples: Sequence[Example]) -> dict[str, Metrics]:
        """Held-out metrics of every pattern on ``examples``."""
        self._require()
        found: dict[str, Metrics] = {}
        for pattern, model in self.models.items():
            x, y = dataset(pattern, examples, self.mask)
            found[pattern] = measure(model.probabilities(x).astype(np.float64), y)
        return found

    # ------------------------------------------------------------------ state
    def state_dict(self, *, include_replay: bool = True) -> dict[str, Any]:
        """Plain data (NumPy arrays, numbers, strings): every model, the version and its
        history, and the replay buffers unless ``include_replay`` is false (predicting
        needs no replay; resuming training exactly does). Round-trips through
        :meth:`load_state_dict`; phase 2's export writes it out. Examples waiting for
        the next update are not part of it: they are in the log after
        ``version.last_position`` and a :class:`~adapters.neural.trainer.LogTrainer`
        reads them again."""
        return {
            "feature_version": FEATURE_VERSION,
            "config": asdict(self.config),
            "models": {
                pattern: model.state_dict(include_replay=include_replay)
                for pattern, model in self.models.items()
            },
            "version": None if self.version is None else asdict(self.version),
            "history": [asdict(v) for v in self.history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["feature_version"] != FEATURE_VERSION:
            raise ValueError(
                f"the model was trained on feature layout {state['feature_version']}, "
                f"this engine reads layout {FEATURE_VERSION}"
            )
        found_config = dict(state["config"])
        found_config["disabled_features"] = tuple(found_config.get("disabled_features", ()))
        self.config = EngineConfig(**found_config)
        self.mask = pair_mask(self.config.disabled_features)
        for pattern in PATTERNS:
            self.models[pattern].load_state_dict(state["models"][pattern])
        found = state["version"]
        self.version = None if found is None else ModelVersion(**found)
        self.history = [ModelVersion(**v) for v in state["history"]]
        self.pending = []
