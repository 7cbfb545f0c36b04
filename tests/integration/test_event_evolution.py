"""Event evolution: an event stored before its schema changed is upcast on replay.

``Task.Failed`` v2 records ``retryable``; v1 did not (every failure could be
retried while retries were left). These tests write v1 records into a real
SQLite log exactly as the code before the change stored them (no ``retryable``,
no ``class_version`` marker: the library writes the marker only from version 2 on),
then read them back through every path that decodes the log: the repository
(events and snapshots), the decoded notifications, the policies and a projection
rebuilt from the log. See docs/event-evolution.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent

from application.bootstrap import Swarmlog, bootstrap
from application.commands import RetryTask
from application.replay.verify import verify
from domain.agent import Agent
from domain.errors import InvalidTransition
from domain.task import Task
from projections.database import read_model_engine
from projections.queries import get_task
from projections.tasks import TasksProjection
from tests.conftest import Clock, sqlite_settings
from tests.integration.helpers import create_task, events, events_of, replay, run_task, spawn
from tests.integration.projections.conftest import caught_up


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> Iterator[Swarmlog]:
    app = bootstrap(sqlite_settings(tmp_path), clock=clock)
    yield app
    app.close()


def stored_json(stored: StoredEvent) -> dict[str, Any]:
    return dict(json.loads(stored.state))


def as_v1(mapper: Mapper[UUID], stored: StoredEvent, drop: str) -> StoredEvent:
    """The record the v1 code stored: the v2 state without ``drop`` and without the
    class version marker, through the same transcoder (so the same bytes)."""
    assert mapper.compressor is None
    assert mapper.cipher is None
    state = mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state[drop]
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=mapper.transcoder.encode(state),
    )


def write_v1_failure(app: Swarmlog, task_id: UUID, error: str) -> StoredEvent:
    """Fail the running task with a ``Task.Failed`` record as v1 wrote it."""
    task = app.store.load(Task, task_id)
    task.fail(error)
    [failed] = task.collect_events()
    v1 = as_v1(app.store.mapper, app.store.mapper.to_stored_event(failed), drop="retryable")
    app.store.recorder.insert_events([v1])
    app.store.forget([task_id])
    return v1


def running(app: Swarmlog, **fields: Any) -> tuple[UUID, UUID]:
    agent_id = spawn(app)
    task_id = create_task(app, **fields)
    run_task(app, task_id, agent_id)
    return task_id, agent_id


def test_the_current_code_stores_failed_as_v2_with_retryable(app: Swarmlog) -> None:
    task_id, _ = running(app)
    task = app.store.load(Task, task_id)
    task.fail("bad input", retryable=False)
    app.store.save(task)
    [stored] = app.store.recorder.select_events(task_id, gt=task.version - 1)
    assert stored_json(stored)["class_version"] == 2
    assert stored_json(stored)["retryable"] is False
    [failed] = events(app, kinds=[Task.Failed])
    assert failed.retryable is False
    loaded = app.store.load(Task, task_id)
    assert loaded.status == "failed"
    assert loaded.is_final
    with pytest.raises(InvalidTransition, match="not retryable"):
        loaded.retry()


def test_a_v1_failed_event_is_upcast_on_replay(app: Swarmlog, tmp_path: Path) -> None:
    task_id, agent_id = running(app, max_retries=2)
    v1 = write_v1_failure(app, task_id, "boom")
    assert "retryable" not in stored_json(v1)
    assert "class_version" not in stored_json(v1)

    # the decoded event has the new field, with the v1 meaning
    [failed] = [e for e in events_of(app, task_id) if isinstance(e, Task.Failed)]
    assert failed.retryable is True
    assert failed.error == "boom"
    assert failed.agent_id == agent_id
    assert [e.retryable for e in events(app, kinds=[Task.Failed])] == [True]

    # the aggregate, through the repository and from its events alone
    for task in (app.store.load(Task, task_id), replay(app, task_id)):
        assert task.status == "failed"
        assert task.error == "boom"
        assert task.retryable is True
        assert not task.is_final

    # the policies read it too: the agent lets go of the failed task
    app.policies.catch_up()
    assert task_id not in app.store.load(Agent, agent_id).current_tasks

    # a read model rebuilt from the log handles it
    engine = read_model_engine(f"sqlite:///{tmp_path / 'read_models.db'}")
    try:
        caught_up(app, engine, [TasksProjection()])
        with engine.connect() as conn:
            row = get_task(conn, task_id)
        assert row is not None
        assert (row.status, row.error, row.version) == ("failed", "boom", v1.originator_version)
    finally:
        engine.dispose()

    # verify finds the log sound: the old event decodes and upcasts
    assert verify(app.store).findings == []

    # and the v1 failure can be retried, as it could before v2
    app.handle(RetryTask(task_id=task_id))
    task = app.store.load(Task, task_id)
    assert (task.status, task.retries, task.retryable) == ("queued", 1, True)


def test_a_v1_snapshot_of_a_task_is_upcast(app: Swarmlog) -> None:
    """A snapshot taken by the v1 code has no ``retryable`` attribute and no class
    version: the aggregate's own upcaster fills it in."""
    task_id, _ = running(app)
    write_v1_failure(app, task_id, "boom")
    task = replay(app, task_id)
    mapper = app.store.mapper
    current = mapper.to_stored_event(Snapshot.take(task))
    assert current.originator_version == task.version
    state = mapper.transcoder.decode(current.state)
    assert state["state"]["class_version"] == 3  # v3: assignment_note (Task.Assigned v2)
    assert "retryable" in state["state"]
    del state["state"]["class_version"]
    del state["state"]["retryable"]
    del state["state"]["assignment_note"]
    v1 = StoredEvent(
        originator_id=current.originator_id,
        originator_version=current.originator_version,
        topic=current.topic,
        state=mapper.transcoder.encode(state),
    )
    snapshots = app.store.snapshots
    assert snapshots is not None
    snapshots.recorder.insert_events([v1])
    app.store.forget([task_id])

    [snapshot] = snapshots.get(task_id)
    assert isinstance(snapshot, Snapshot)
    restored = snapshot.mutate(None)
    assert isinstance(restored, Task)
    assert vars(restored)["retryable"] is True
    assert vars(restored)["assignment_note"] is None
    assert restored.status == "failed"

    loaded = app.store.load(Task, task_id)
    assert loaded.retryable is True
    assert {k: v for k, v in vars(loaded).items() if k != "_pending_events"} == {
        k: v for k, v in vars(task).items() if k != "_pending_events"
    }
