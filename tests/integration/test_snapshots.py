"""Snapshots: an aggregate rebuilt from a snapshot equals its replay from events alone."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from application.bootstrap import Swarmlog, bootstrap
from application.commands import (
    CompleteTask,
    LeaveSwarm,
    OptimizeSwarm,
    PauseAgent,
    ReportTaskProgress,
    ResumeAgent,
    ScaleSwarm,
)
from domain.agent import Agent
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from tests.integration.helpers import (
    create_task,
    init_swarm,
    propose,
    replay,
    run_task,
    spawn,
    state,
    vote,
)


def busy_agent(app: Swarmlog) -> UUID:
    agent = spawn(app, max_load=5)
    for _ in range(6):
        app.handle(PauseAgent(agent_id=agent, reason="break"))
        app.handle(ResumeAgent(agent_id=agent))
    for _ in range(3):
        task = create_task(app)
        run_task(app, task, agent)
        app.handle(CompleteTask(task_id=task))
    return agent


def busy_swarm(app: Swarmlog) -> UUID:
    members = [spawn(app, name=f"m{i}") for i in range(9)]
    swarm = init_swarm(app, members, max_agents=12, topology="hierarchical")
    app.handle(LeaveSwarm(swarm_id=swarm, agent_id=members[0]))
    app.handle(ScaleSwarm(swarm_id=swarm, max_agents=11))
    app.handle(OptimizeSwarm(swarm_id=swarm))
    return swarm


def busy_task(app: Swarmlog) -> UUID:
    task = create_task(app, swarm_id=init_swarm(app))
    run_task(app, task, spawn(app))
    for percent in range(10, 100, 10):
        app.handle(ReportTaskProgress(task_id=task, percent=percent))
    app.handle(CompleteTask(task_id=task))
    return task


def busy_proposal(app: Swarmlog) -> UUID:
    members = [spawn(app, name=f"v{i}") for i in range(7)]
    proposal = propose(app, init_swarm(app, members), members[0], protocol="byzantine")
    for _phase in ("prepare", "commit"):  # 2f + 1 = 5 approvals each
        for member in members[:5]:
            vote(app, proposal, member)
    assert app.store.load(Proposal, proposal).status == "accepted"
    return proposal


BUILDERS: list[tuple[type, Callable[[Swarmlog], UUID]]] = [
    (Agent, busy_agent),
    (Swarm, busy_swarm),
    (Task, busy_task),
    (Proposal, busy_proposal),
]


@pytest.mark.parametrize(("kind", "build"), BUILDERS, ids=lambda v: getattr(v, "__name__", v))
def test_an_aggregate_is_rebuilt_from_its_snapshot_as_from_its_events(
    swarmlog: Swarmlog, kind: type, build: Callable[[Swarmlog], UUID]
) -> None:
    assert swarmlog.settings.snapshot_interval == 5
    aggregate_id = build(swarmlog)
    current = replay(swarmlog, aggregate_id)
    assert current.version >= 10

    snapshots = list(swarmlog.store.snapshots.get(aggregate_id))
    assert [s.originator_version for s in snapshots] == list(range(5, current.version + 1, 5))
    for snapshot in snapshots:  # each snapshot is the state at its version
        at = snapshot.mutate(None)
        assert state(at) == state(replay(swarmlog, aggregate_id, snapshot.originator_version))

    fresh = bootstrap(swarmlog.settings)  # nothing cached: reads the snapshot, then events
    try:
        loaded = fresh.store.load(kind, aggregate_id)
    finally:
        fresh.close()
    assert state(loaded) == state(current)
    assert state(swarmlog.store.load(kind, aggregate_id)) == state(current)


def test_loading_at_a_version_gives_the_state_at_that_version(swarmlog: Swarmlog) -> None:
    agent = busy_agent(swarmlog)
    latest = swarmlog.store.load(Agent, agent)
    for version in range(1, latest.version + 1):
        past = swarmlog.store.load(Agent, agent, version=version)
        assert past.version == version
        assert state(past) == state(replay(swarmlog, agent, version))
    assert swarmlog.store.load(Agent, agent, version=1).state == "created"
    assert swarmlog.store.load(Agent, agent, version=3).state == "ready"
    assert swarmlog.store.load(Agent, agent, version=4).state == "paused"


def test_a_task_started_and_loaded_from_a_snapshot_keeps_its_timestamps(
    swarmlog: Swarmlog,
) -> None:
    task = create_task(swarmlog)
    run_task(swarmlog, task, spawn(swarmlog))
    for percent in (10, 20, 30):
        swarmlog.handle(ReportTaskProgress(task_id=task, percent=percent))
    fresh = bootstrap(swarmlog.settings)
    try:
        loaded = fresh.store.load(Task, task)
    finally:
        fresh.close()
    assert loaded.version == 7  # created, queued, assigned, started, 3 x progress
    assert (loaded.started_at, loaded.assigned_at) == (
        replay(swarmlog, task).started_at,
        replay(swarmlog, task).assigned_at,
    )
    assert loaded.started_at is not None
