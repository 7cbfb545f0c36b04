"""Setting up a simulation: the planned swarms, agents and tasks created through the bus.

The commands go out in a fixed order (every swarm; each agent spawned, then
joined; every task), so the same plan always sets up the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from application.commands import CreateTask, InitSwarm, JoinSwarm, SpawnAgent
from application.simulation.workload import WorkloadPlan
from domain.errors import CapacityExceeded


@dataclass
class Roster:
    """The ids the bus gave the plan's swarms, agents and tasks, by their plan index."""

    swarm_ids: list[UUID] = field(default_factory=list)
    agent_ids: list[UUID] = field(default_factory=list)
    task_ids: list[UUID] = field(default_factory=list)
    members: dict[int, list[UUID]] = field(default_factory=dict)
    """Swarm index -> the agents that joined it, in join order."""


def set_up(do: Callable[[object], UUID], plan: WorkloadPlan, timeout: timedelta) -> Roster:
    """Create everything ``plan`` holds with ``do`` (runs a command, returns its id)."""
    roster = Roster()
    for swarm in plan.swarms:
        roster.swarm_ids.append(
            do(
                InitSwarm(
                    name=swarm.name,
                    topology=swarm.topology,
                    max_agents=swarm.max_agents,
                    max_depth=swarm.max_depth,
                    branching_factor=swarm.branching_factor,
                )
            )
        )
    for agent in plan.agents:
        agent_id = do(
            SpawnAgent(
                name=agent.name,
                agent_type=agent.agent_type,
                capabilities=list(agent.capabilities),
                max_load=agent.max_load,
            )
        )
        roster.agent_ids.append(agent_id)
        _join(do, roster, agent_id, agent.swarm)
    for spec in plan.tasks:
        roster.task_ids.append(
            do(
                CreateTask(
                    description=spec.description,
                    task_type=spec.task_type,
                    priority=spec.priority,
                    required_capabilities=list(spec.required_capabilities),
                    dependencies=[roster.task_ids[d] for d in spec.dependencies],
                    max_retries=spec.max_retries,
                    timeout_seconds=timeout.total_seconds(),
                    swarm_id=roster.swarm_ids[spec.swarm],
                )
            )
        )
    return roster


def _join(do: Callable[[object], UUID], roster: Roster, agent_id: UUID, preferred: int) -> None:
    """Join the planned swarm, or the next one with room when its topology is full."""
    count = len(roster.swarm_ids)
    for offset in range(count):
        index = (preferred + offset) % count
        try:
            do(JoinSwarm(swarm_id=roster.swarm_ids[index], agent_id=agent_id))
        except CapacityExceeded:
            continue
        roster.members.setdefault(index, []).append(agent_id)
        return
