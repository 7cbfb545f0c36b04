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

Workload. :func:`plan_workload` draws from ``random.Random(seed)`` in this fixed
order: every swarm (topology, max_depth, branching_factor); every agent
(agent_type, capabilities, max_load; swarm = index mod swarm count); every task
(swarm, task_type, priority, required capabilities, dependencies on earlier
tasks of the same swarm, per-task seed). See the function for the details.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from application.simulation.config import PRIORITIES, SimulationConfig

PROBABILITY_FLOOR = 0.01
PROBABILITY_CEILING = 0.99


# --------------------------------------------------------------------------- features
@dataclass(frozen=True)
class AgentFeatures:
    """What the ground truth knows about a candidate agent at assignment time."""

    agent_type: str
    capabilities: tuple[str, ...]
    load_fraction: float = 0.0


@dataclass(frozen=True)
class TaskFeatures:
    """What the ground truth knows about a task."""

    task_type: str
    required_capabilities: tuple[str, ...]
    priority: str = "normal"


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


# --------------------------------------------------------------------------- workload
@dataclass(frozen=True)
class SwarmSpec:
    name: str
    topology: str
    max_agents: int
    max_depth: int
    branching_factor: int


@dataclass(frozen=True)
class AgentSpec:
    name: str
    agent_type: str
    capabilities: tuple[str, ...]  # sorted
    max_load: int
    swarm: int  # index into WorkloadPlan.swarms

    def features(self, load_fraction: float = 0.0) -> AgentFeatures:
        return AgentFeatures(self.agent_type, self.capabilities, load_fraction)


@dataclass(frozen=True)
class TaskSpec:
    description: str
    task_type: str
    priority: str
    required_capabilities: tuple[str, ...]  # sorted
    dependencies: tuple[int, ...]  # sorted indices of earlier tasks, same swarm
    max_retries: int
    swarm: int  # index into WorkloadPlan.swarms
    seed: int  # seeds random.Random for this task's outcome and duration draws

    @property
    def features(self) -> TaskFeatures:
        return TaskFeatures(self.task_type, self.required_capabilities, self.priority)

    def rng(self) -> random.Random:
        """A fresh generator for this task's attempts (see :func:`draw_attempt`)."""
        return random.Random(self.seed)


@dataclass(frozen=True)
class WorkloadPlan:
    seed: int
    swarms: tuple[SwarmSpec, ...]
    agents: tuple[AgentSpec, ...]
    tasks: tuple[TaskSpec, ...]


def _draw_capabilities(
    rng: random.Random, config: SimulationConfig, agent_type: str, universe: list[str]
) -> tuple[str, ...]:
    """``k`` slots; each is off-type (from the whole vocabulary) with the configured
    probability, else from the type's pool; a slot whose pool is used up stays empty.
    """
    typical = sorted(set(config.capabilities_by_agent_type[agent_type]))
    chosen: set[str] = set()
    for _ in range(rng.randint(*config.capabilities_per_agent)):
        off_type = rng.random() < config.off_type_capability_probability
        pool = [c for c in (universe if off_type else typical) if c not in chosen]
        if pool:
            chosen.add(rng.choice(pool))
    return tuple(sorted(chosen))


def plan_workload(config: SimulationConfig, seed: int, agents: int, tasks: int) -> WorkloadPlan:
    """A reproducible workload: the same ``(config, seed, agents, tasks)`` always
    gives an identical plan. Draw order is documented in the module docstring.

    Agents are dealt to swarms round-robin. Each task lands in a uniformly drawn
    swarm among those holding an agent; it has dependencies with probability
    ``dependency_probability`` (when an earlier task of its swarm exists): between
    1 and ``max_dependencies`` distinct earlier tasks of the same swarm.
    """
    if agents < 0 or tasks < 0:
        raise ValueError("agents and tasks must be non-negative")
    settings = config.swarms
    per_swarm = -(-agents // settings.count)
    if per_swarm > settings.max_agents:
        raise ValueError(
            f"{agents} agents do not fit {settings.count} swarms of at most "
            f"{settings.max_agents} agents"
        )
    rng = random.Random(seed)
    swarms = tuple(
        SwarmSpec(
            name=f"swarm-{i + 1:02d}",
            topology=rng.choice(settings.topologies),
            max_agents=settings.max_agents,
            max_depth=rng.randint(*settings.max_depth_range),
            branching_factor=rng.randint(*settings.branching_factor_range),
        )
        for i in range(settings.count)
    )
    universe = sorted(
        {c for caps in config.capabilities_by_agent_type.values() for c in caps}
        | {c for caps in config.capabilities_by_task_type.values() for c in caps}
    )
    agent_specs: list[AgentSpec] = []
    for i in range(agents):
        agent_type = rng.choice(config.agent_types)
        capabilities = _draw_capabilities(rng, config, agent_type, universe)
        max_load = rng.randint(*config.max_load_range)
        name = f"{agent_type}-{i + 1:03d}"
        swarm = i % settings.count
        agent_specs.append(AgentSpec(name, agent_type, capabilities, max_load, swarm))

    staffed = min(settings.count, agents) or settings.count
    weights = [config.priority_weights.get(p, 0.0) for p in PRIORITIES]  # type: ignore[call-overload]
    task_specs: list[TaskSpec] = []
    by_swarm: dict[int, list[int]] = {}
    for i in range(tasks):
        swarm = rng.randrange(staffed)
        task_type = rng.choice(config.task_types)
        priority = rng.choices(PRIORITIES, weights=weights)[0]
        pool = sorted(set(config.capabilities_by_task_type[task_type]))
        wanted = rng.randint(*config.required_capabilities_per_task)
        required = tuple(sorted(rng.sample(pool, min(wanted, len(pool)))))
        earlier = by_swarm.setdefault(swarm, [])
        dependencies: tuple[int, ...] = ()
        if earlier and config.max_dependencies > 0 and rng.random() < config.dependency_probability:
            count = rng.randint(1, min(config.max_dependencies, len(earlier)))
            dependencies = tuple(sorted(rng.sample(earlier, count)))
        earlier.append(i)
        task_specs.append(
            TaskSpec(
                description=f"{priority} {task_type} task #{i + 1}",
                task_type=task_type,
                priority=priority,
                required_capabilities=required,
                dependencies=dependencies,
                max_retries=config.max_retries,
                swarm=swarm,
                seed=rng.getrandbits(63),
            )
        )
    return WorkloadPlan(seed, swarms, tuple(agent_specs), tuple(task_specs))
