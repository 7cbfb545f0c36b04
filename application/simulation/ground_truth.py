"""The hidden ground-truth model of the workload simulator.

Everything here is pure: no I/O, no global state, no wall clock. Randomness only
ever comes from a ``random.Random`` passed in by the caller, so one seed
reproduces a whole run exactly. A learner sees only the event log; this module
is what it is evaluated against.

The model
=========
An *assignment* pairs an agent (``agent_type``, a set of capabilities, and its
``load_fraction`` = tasks held / ``max_load`` at the moment of assignment, before
taking this task, in [0, 1]) with a task (``task_type``, a set of
``required_capabilities``, a ``priority``).

Success. With ``coverage = |required ∩ capabilities| / |required|`` (1.0 when
nothing is required) and ``affinity = config.affinity[agent_type][task_type]``
(``config.default_affinity`` when absent)::

    logit = affinity
          + capability_weight * coverage
          + load_penalty      * load_fraction      (load_penalty <= 0)
          + priority_effect[priority]              (0.0 when absent)
    p     = clamp(sigmoid(logit), 0.01, 0.99)

Each attempt succeeds independently with probability ``p``
(:func:`draw_outcome`: ``rng.random() < p``).

Duration (seconds). With ``fit = sigmoid(affinity + capability_weight * coverage)``
(load and priority play no part)::

    expected = base_duration_seconds[task_type]
               * (1 + duration_affinity_factor * (1 - fit))
    duration = expected * LogNormal(mu = -sigma**2 / 2, sigma = duration_noise)

so the *mean* duration equals ``expected``; better-fitted agents are faster.

Draw order. A task's draws come from ``random.Random(task.seed)``; for each
attempt :func:`draw_attempt` draws the outcome first, then the duration.

The seeded workload those draws run on is planned in
:mod:`~application.simulation.workload` (:func:`plan_workload`, re-exported here).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from application.simulation.config import PRIORITIES, SimulationConfig
from application.simulation.features import AgentFeatures as AgentFeatures
from application.simulation.features import TaskFeatures as TaskFeatures
from application.simulation.workload import plan_workload as plan_workload

PROBABILITY_FLOOR = 0.01
PROBABILITY_CEILING = 0.99


# --------------------------------------------------------------------------- success
def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def capability_coverage(
    agent_capabilities: Iterable[str], required_capabilities: Iterable[str]
) -> float:
    """Fraction of the required capabilities the agent has; 1.0 if none required."""
    required = set(required_capabilities)
    if not required:
        return 1.0
    return len(required & set(agent_capabilities)) / len(required)


def affinity_logit(config: SimulationConfig, agent_type: str, task_type: str) -> float:
    """The base logit of ``agent_type`` on ``task_type`` (default when unset)."""
    return config.affinity.get(agent_type, {}).get(task_type, config.default_affinity)


def success_logit(
    config: SimulationConfig,
    agent_type: str,
    agent_capabilities: Iterable[str],
    task_type: str,
    required_capabilities: Iterable[str],
    priority: str,
    load_fraction: float,
) -> float:
    """The unclamped log-odds of success (see the module docstring)."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, got {priority!r}")
    if not 0.0 <= load_fraction <= 1.0:
        raise ValueError(f"load_fraction must be within [0, 1], got {load_fraction}")
    coverage = capability_coverage(agent_capabilities, required_capabilities)
    return (
        affinity_logit(config, agent_type, task_type)
        + config.capability_weight * coverage
        + config.load_penalty * load_fraction
        + config.priority_effect.get(priority, 0.0)  # type: ignore[call-overload]
    )


def success_probability(
    config: SimulationConfig,
    agent_type: str,
    agent_capabilities: Iterable[str],
    task_type: str,
    required_capabilities: Iterable[str],
    priority: str,
    load_fraction: float,
) -> float:
    """The true probability that one attempt succeeds, clamped into [0.01, 0.99]."""
    logit = success_logit(
        config,
        agent_type,
        agent_capabilities,
        task_type,
        required_capabilities,
        priority,
        load_fraction,
    )
    return min(PROBABILITY_CEILING, max(PROBABILITY_FLOOR, _sigmoid(logit)))


def probability_for(config: SimulationConfig, agent: AgentFeatures, task: TaskFeatures) -> float:
    """:func:`success_probability` over feature records."""
    return success_probability(
        config,
        agent.agent_type,
        agent.capabilities,
        task.task_type,
        task.required_capabilities,
        task.priority,
        agent.load_fraction,
    )


def draw_outcome(rng: random.Random, p: float) -> bool:
    """One Bernoulli(p) draw: exactly one ``rng.random()`` call."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability, got {p}")
    return rng.random() < p


# --------------------------------------------------------------------------- duration
def expected_duration(
    config: SimulationConfig,
    agent_type: str,
    agent_capabilities: Iterable[str],
    task_type: str,
    required_capabilities: Iterable[str],
) -> float:
    """Mean duration in seconds of one attempt (see the module docstring)."""
    if task_type not in config.base_duration_seconds:
        raise ValueError(f"unknown task_type {task_type!r}")
    fit = _sigmoid(
        affinity_logit(config, agent_type, task_type)
        + config.capability_weight * capability_coverage(agent_capabilities, required_capabilities)
    )
    factor = 1.0 + config.duration_affinity_factor * (1.0 - fit)
    return config.base_duration_seconds[task_type] * factor


def draw_duration(
    rng: random.Random,
    config: SimulationConfig,
    agent_type: str,
    agent_capabilities: Iterable[str],
    task_type: str,
    required_capabilities: Iterable[str],
) -> float:
    """Expected duration times mean-one lognormal noise: one lognormvariate call."""
    mean = expected_duration(
        config, agent_type, agent_capabilities, task_type, required_capabilities
    )
    sigma = config.duration_noise
    return mean * rng.lognormvariate(-(sigma**2) / 2.0, sigma)


@dataclass(frozen=True)
class AttemptDraw:
    """One attempt's hidden result: the true probability, the outcome, the time."""

    probability: float
    succeeded: bool
    duration_seconds: float


def draw_attempt(
    rng: random.Random,
    config: SimulationConfig,
    agent: AgentFeatures,
    task: TaskFeatures,
) -> AttemptDraw:
    """Draw an attempt in the canonical order: outcome first, then duration."""
    p = probability_for(config, agent, task)
    succeeded = draw_outcome(rng, p)
    duration = draw_duration(
        rng,
        config,
        agent.agent_type,
        agent.capabilities,
        task.task_type,
        task.required_capabilities,
    )
    return AttemptDraw(probability=p, succeeded=succeeded, duration_seconds=duration)


# --------------------------------------------------------------------------- oracle
@dataclass(frozen=True)
class OracleChoice:
    """The candidate with the highest true success probability (first on ties)."""

    index: int
    agent: AgentFeatures
    probability: float


@dataclass(frozen=True)
class Oracle:
    """Knows the true probabilities; the yardstick for assignment regret."""

    config: SimulationConfig

    def probabilities(self, task: TaskFeatures, candidates: Sequence[AgentFeatures]) -> list[float]:
        return [probability_for(self.config, agent, task) for agent in candidates]

    def best(self, task: TaskFeatures, candidates: Sequence[AgentFeatures]) -> OracleChoice:
        if not candidates:
            raise ValueError("the oracle needs at least one candidate agent")
        probabilities = self.probabilities(task, candidates)
        index = max(range(len(candidates)), key=probabilities.__getitem__)
        return OracleChoice(index, candidates[index], probabilities[index])

    def regret(self, task: TaskFeatures, candidates: Sequence[AgentFeatures], chosen: int) -> float:
        """Best true probability minus that of ``candidates[chosen]`` (>= 0)."""
        if not 0 <= chosen < len(candidates):
            raise IndexError(f"chosen index {chosen} is not a candidate")
        best = self.best(task, candidates)
        return best.probability - probability_for(self.config, candidates[chosen], task)


def bayes_optimal_accuracy(probabilities: Iterable[float]) -> float:
    """mean(max(p, 1 - p)): the best accuracy any predictor of outcomes can reach."""
    values = list(probabilities)
    if not values:
        raise ValueError("bayes_optimal_accuracy needs at least one probability")
    if any(not 0.0 <= p <= 1.0 for p in values):
        raise ValueError("every value must be a probability in [0, 1]")
    return sum(max(p, 1.0 - p) for p in values) / len(values)
