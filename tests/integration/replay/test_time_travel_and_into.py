"""Time travel across snapshots, and replaying a range into a consumer without
touching its checkpoint."""

from __future__ import annotations

from typing import Any

import pytest

from application.bootstrap import Swarmlog, read_side
from application.commands import PauseAgent, ResumeAgent
from application.policies.reactions import ALL_POLICIES
from application.replay.into import policy_reactions
from application.time_travel import aggregate_at, state_of
from domain.errors import NotFound, ValidationError
from projections.replay import replay_into
from tests.conftest import Clock
from tests.integration.helpers import create_task, events_of, finish_task, replay, spawn
from tests.support.read_models import checksums


def test_time_travel_gives_every_version_of_a_stream_with_snapshots_inside(
    swarmlog: Swarmlog, clock: Clock
) -> None:
    agent = spawn(swarmlog, "ada")
    moments = []
    for _ in range(6):  # 3 + 12 events: snapshots (every 5 versions) at 5, 10 and 15
        clock.advance(seconds=10)
        swarmlog.handle(PauseAgent(agent_id=agent, reason="break"))
        moments.append(clock.now)
        clock.advance(seconds=10)
        swarmlog.handle(ResumeAgent(agent_id=agent))
    versions = len(events_of(swarmlog, agent))
    assert versions == 15
    assert swarmlog.store.snapshots is not None
    assert list(swarmlog.store.snapshots.get(agent))  # there are snapshots to cross
    for version in range(1, versions + 1):
        travelled = aggregate_at(swarmlog.store, agent, version=version)
        assert travelled.version == version
        assert state_of(travelled) == state_of(replay(swarmlog, agent, version))
    paused_at_third = aggregate_at(swarmlog.store, agent, at=moments[2])
    assert (paused_at_third.state, paused_at_third.version) == ("paused", 8)
    with pytest.raises(NotFound):
        aggregate_at(swarmlog.store, agent, version=versions + 1)
    with pytest.raises(ValidationError):
        aggregate_at(swarmlog.store, agent, version=1, at=moments[0])


def _row(changes: list[Any], table: str) -> list[Any]:
    return [c for c in changes if c.table == table]


def test_replaying_a_range_into_a_projection_shows_or_writes_without_moving_it(
    swarmlog: Swarmlog, read_model_url: str
) -> None:
    ada = spawn(swarmlog, "ada")
    task = create_task(swarmlog)
    finish_task(swarmlog, task, ada)
    settings = swarmlog.settings.model_copy(update={"read_model_url": read_model_url})
    runner = read_side(
        Swarmlog(settings, swarmlog.store, swarmlog.bus, swarmlog.policies, swarmlog.strategies)
    )
    runner.catch_up()
    tasks = runner.by_name["tasks"]
    before, checkpoint = checksums(runner.engine), runner.checkpoint("tasks")

    # replaying what the read model already holds changes nothing
    same = replay_into(runner, tasks, dry_run=True)
    assert same.events > 0
    assert same.changes == []

    # a damaged row shows up in a dry run, which writes nothing...
    with runner.writer() as conn:
        conn.exec_driver_sql("UPDATE tasks__g1 SET status = 'queued'")
    damaged = checksums(runner.engine)
    shown = replay_into(runner, tasks, dry_run=True)
    (change,) = _row(shown.changes, "tasks")
    assert (change.kind, change.before["status"], change.after["status"]) == (
        "update",
        "queued",
        "completed",
    )
    assert checksums(runner.engine) == damaged
    # ...and replaying for real repairs it, the checkpoint where it was
    written = replay_into(runner, tasks, dry_run=False)
    assert written.written
    assert checksums(runner.engine) == before
    assert runner.checkpoint("tasks") == checkpoint
    runner.engine.dispose()


def test_a_policy_is_replayed_dry_showing_the_commands_it_would_issue(
    swarmlog: Swarmlog,
) -> None:
    ada = spawn(swarmlog, "ada")
    task = create_task(swarmlog)
    finish_task(swarmlog, task, ada)
    workload = next(p for p in ALL_POLICIES if p.name == "agent_workload")
    head = swarmlog.store.head()
    reactions = list(policy_reactions(swarmlog.store, workload))
    assert [r.event_type for r in reactions] == ["Task.Assigned", "Task.Completed"]
    assert [type(r.command).__name__ for r in reactions] == ["TakeTask", "ReleaseTask"]
    assert swarmlog.store.head() == head  # nothing was written
