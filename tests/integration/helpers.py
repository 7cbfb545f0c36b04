"""Small builders and readers shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.bootstrap import Swarmlog
from application.commands import (
    AssignTask,
    CastVote,
    CompleteTask,
    CreateProposal,
    CreateTask,
    InitSwarm,
    JoinSwarm,
    SpawnAgent,
    StartTask,
)


def spawn(
    app: Swarmlog,
    name: str = "agent",
    capabilities: Sequence[str] = ("python",),
    max_load: int = 3,
    agent_type: str = "coder",
) -> UUID:
    command = SpawnAgent(
        name=name, agent_type=agent_type, capabilities=list(capabilities), max_load=max_load
    )
    return app.handle(command).aggregate_id


def init_swarm(
    app: Swarmlog,
    members: Iterable[UUID] = (),
    max_agents: int = 10,
    topology: str = "mesh",
) -> UUID:
    swarm_id = app.handle(
        InitSwarm(name="swarm", topology=topology, max_agents=max_agents)
    ).aggregate_id
    for agent_id in members:
        app.handle(JoinSwarm(swarm_id=swarm_id, agent_id=agent_id))
    return swarm_id


def create_task(app: Swarmlog, **fields: Any) -> UUID:
    fields = {"description": "do it", "task_type": "code", **fields}
    return app.handle(CreateTask(**fields)).aggregate_id


def run_task(app: Swarmlog, task_id: UUID, agent_id: UUID) -> None:
    """Assign the task to the agent and start it."""
    app.handle(AssignTask(task_id=task_id, agent_id=agent_id))
    app.handle(StartTask(task_id=task_id))


def finish_task(app: Swarmlog, task_id: UUID, agent_id: UUID) -> None:
    run_task(app, task_id, agent_id)
    app.handle(CompleteTask(task_id=task_id, result="done"))


def propose(
    app: Swarmlog, swarm_id: UUID, proposer_id: UUID, protocol: str = "majority", **fields: Any
) -> UUID:
    command = CreateProposal(
        swarm_id=swarm_id,
        proposer_id=proposer_id,
        title="a proposal",
        value={"x": 1},
        protocol=protocol,
        **fields,
    )
    return app.handle(command).aggregate_id


def vote(app: Swarmlog, proposal_id: UUID, voter_id: UUID, approve: bool = True) -> None:
    app.handle(CastVote(proposal_id=proposal_id, voter_id=voter_id, approve=approve))


def events(
    app: Swarmlog, start: int = 1, stop: int | None = None, kinds: Sequence[type] = ()
) -> list[Any]:
    """The decoded events of the log from ``start`` to ``stop`` (inclusive), of ``kinds``."""
    topics = [get_topic(kind) for kind in kinds]
    return [app.store.decode(n) for n in app.store.notifications(start, stop, topics)]


def events_of(app: Swarmlog, aggregate_id: UUID) -> list[Any]:
    """Every stored event of one aggregate, in version order."""
    return list(app.store.events.get(aggregate_id))


def names(recorded: Iterable[Any]) -> list[str]:
    return [type(event).__qualname__ for event in recorded]


def replay(app: Swarmlog, aggregate_id: UUID, version: int | None = None) -> Any:
    """The aggregate rebuilt from its events alone (no cache, no snapshot)."""
    aggregate = None
    for event in app.store.events.get(aggregate_id, lte=version):
        aggregate = event.mutate(aggregate)
    return aggregate


def state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's attributes, without the events not yet saved."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
