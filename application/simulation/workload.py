"""The seeded workload plan of the simulator: which swarms, agents and tasks to create.

Pure, like the ground truth it feeds: no I/O, no global state, no wall clock;
randomness only from ``random.Random(seed)``, so one seed reproduces a plan exactly.

Workload. :func:`plan_workload` draws from ``random.Random(seed)`` in this fixed
order: every swarm (topology, max_depth, branching_factor); every agent
(agent_type, capabilities, max_load; swarm = index mod swarm count); every task
(swarm, task_type, priority, required capabilities, dependencies on earlier
tasks of the same swarm, per-task seed). See the function for the details.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from application.simulation.config import PRIORITIES, SimulationConfig
from application.simulation.features import AgentFeatures, TaskFeatures


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
        """A fresh generator for this task's attempts (see
        :func:`~application.simulation.ground_truth.draw_attempt`)."""
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
