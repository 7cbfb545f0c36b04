"""The persistence contract: what every event store must do for swarmlog, tested
through the application's own API on SQLite, PostgreSQL and (when EVENTSTOREDB_URI
is set) EventStoreDB. On EventStoreDB the server is shared, so each test looks only
at the streams it wrote."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.settings import Settings
from application.bootstrap import Swarmlog, read_side
from application.commands import InitSwarm, PauseAgent, ScaleSwarm, SpawnAgent
from application.replay.export import export_log
from application.replay.imports import import_log
from domain.agent import Agent
from domain.errors import Conflict, IdempotencyKeyReused
from domain.swarm import Swarm
from projections.worker import Worker
from tests.contract.conftest import MakeApp


def spawn(app: Swarmlog, name: str = "ada", **fields: Any) -> Any:
    return app.handle(SpawnAgent(name=name, agent_type="coder", capabilities=["python"], **fields))


def notifications_of(app: Swarmlog, ids: set[UUID], start: int = 1) -> list[Any]:
    return [n for n in app.store.notifications(start) if n.originator_id in ids]


def test_save_and_load(make_app: MakeApp) -> None:
    app = make_app()
    result = spawn(app, max_load=4)
    agent = app.store.load(Agent, result.aggregate_id)
    assert (agent.name, agent.max_load, agent.version) == ("ada", 4, result.version)
    first = app.store.load(Agent, result.aggregate_id, version=1)
    assert first.version == 1  # versions count from 1 on every store
    # a second process (no cache) reads the same aggregate from the store
    other = make_app(app.settings)
    again = other.store.load(Agent, result.aggregate_id)
    assert (again.name, again.version, again.state) == (agent.name, agent.version, agent.state)


def test_optimistic_concurrency_conflict(make_app: MakeApp) -> None:
    app = make_app()
    swarm_id = app.handle(InitSwarm(name="hive", topology="mesh")).aggregate_id
    mine, theirs = (app.store.load(Swarm, swarm_id) for _ in range(2))
    mine.scale(20)
    app.store.save(mine)
    theirs.scale(30)
    with pytest.raises(IntegrityError):
        app.store.save(theirs)
    assert app.store.load(Swarm, swarm_id).max_agents == 20


def test_bus_retries_a_conflict_then_reports_it(make_app: MakeApp) -> None:
    app = make_app()
    swarm_id = app.handle(InitSwarm(name="hive", topology="mesh")).aggregate_id
    other = make_app(app.settings)
    other.handle(ScaleSwarm(swarm_id=swarm_id, max_agents=20))  # app's cache is stale now
    result = app.handle(ScaleSwarm(swarm_id=swarm_id, max_agents=30))  # conflicts, retries
    assert app.store.load(Swarm, swarm_id).max_agents == 30
    assert result.version == 3

    stubborn = make_app(app.settings.model_copy(update={"command_retries": 0}))
    stubborn.store.load(Swarm, swarm_id)  # cached at version 3
    other.handle(ScaleSwarm(swarm_id=swarm_id, max_agents=40))
    with pytest.raises(Conflict) as conflict:
        stubborn.handle(ScaleSwarm(swarm_id=swarm_id, max_agents=50))
    assert conflict.value.code == "CONFLICT"
    assert make_app(app.settings).store.load(Swarm, swarm_id).max_agents == 40


def test_idempotency_key_is_honoured(make_app: MakeApp) -> None:
    app = make_app()
    first = spawn(app, idempotency_key="spawn-ada")
    again = spawn(app, idempotency_key="spawn-ada")
    assert not first.repeated
    assert again.repeated
    assert again.aggregate_id == first.aggregate_id
    written = notifications_of(app, {first.aggregate_id})
    assert [n.originator_version for n in written] == list(range(1, first.version + 1))
    with pytest.raises(IdempotencyKeyReused):
        spawn(app, name="bob", idempotency_key="spawn-ada")


def test_log_order(make_app: MakeApp) -> None:
    app = make_app()
    start = app.store.head() + 1
    results = [spawn(app, name=f"agent{i}") for i in range(3)]
    swarm = app.handle(InitSwarm(name="hive", topology="mesh"))
    results += [swarm, app.handle(PauseAgent(agent_id=results[0].aggregate_id))]
    results.append(app.handle(ScaleSwarm(swarm_id=swarm.aggregate_id, max_agents=5)))
    positions = [r.position for r in results]
    assert positions == sorted(set(positions)), "positions grow in commit order"
    ids = {r.aggregate_id for r in results}
    log = notifications_of(app, ids, start)
    ids_in_log = [n.id for n in log]
    assert ids_in_log == sorted(set(ids_in_log)), "the log is in position order"
    assert set(positions) <= set(ids_in_log), "a command's position is its last event's"
    for stream in ids:
        versions = [n.originator_version for n in log if n.originator_id == stream]
        assert versions == list(range(1, len(versions) + 1)), "a stream's versions are 1..n"
    assert app.store.head() >= positions[-1]
    # a page that ends inside the log goes on exactly where it stopped
    page = app.store.recorder.select_notifications(start=start, limit=2)
    rest = app.store.recorder.select_notifications(start=page[-1].id + 1, limit=1000)
    assert [n.id for n in [*page, *rest] if n.originator_id in ids] == ids_in_log


def test_wake_up_on_commit(make_app: MakeApp, tmp_path: Any, store_kind: str) -> None:
    """A projection worker catches a new event within a bounded time: PostgreSQL wakes
    it by NOTIFY and EventStoreDB by its catch-up subscription (its poll interval is
    far longer than the bound); SQLite has no announcement and polls."""
    settings = Settings.model_validate(
        {
            **_fields(make_app().settings),
            "read_model_url": f"sqlite:///{tmp_path / 'read_models.db'}",
        }
    )
    app = make_app(settings)
    spawn(app, name="before")
    runner = read_side(app)
    poll = 0.05 if store_kind == "sqlite" else 30.0
    worker = Worker(runner, settings, poll_seconds=poll)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        caught = _within(10.0, lambda: _lowest_checkpoint(runner) >= app.store.head())
        assert caught is not None, "the worker caught up with the log"
        time.sleep(0.3)  # the worker is waiting now
        position = spawn(app, name="after").position
        took = _within(5.0, lambda: _lowest_checkpoint(runner) >= position)
        assert took is not None, "the worker was not woken by the new event"
    finally:
        stop.set()
        if store_kind == "postgres":  # LISTEN waits up to its timeout: wake it to stop
            spawn(app, name="bye")
        thread.join(timeout=35)
    assert not thread.is_alive()


def test_export_then_import_gives_the_same_events(
    make_app: MakeApp, fresh_store: Callable[..., Settings]
) -> None:
    app = make_app()
    agent = spawn(app)
    swarm = app.handle(InitSwarm(name="hive", topology="mesh"))
    app.handle(PauseAgent(agent_id=agent.aggregate_id))
    app.handle(ScaleSwarm(swarm_id=swarm.aggregate_id, max_agents=7))
    streams = [agent.aggregate_id, swarm.aggregate_id]
    out = io.StringIO()
    exported = export_log(app.store, out, streams=streams)
    target = make_app(fresh_store(empty=True))
    report = import_log(
        target.store,
        io.StringIO(out.getvalue()),
        consumers=[p.name for p in target.policies.policies],
    )
    assert report.events == exported == len(out.getvalue().splitlines())

    def stored(store_app: Swarmlog) -> list[tuple[Any, ...]]:
        return [
            (n.originator_id, n.originator_version, n.topic, n.state)
            for n in notifications_of(store_app, set(streams))
        ]

    assert stored(target) == stored(app)
    assert target.store.load(Swarm, swarm.aggregate_id).max_agents == 7
    assert target.store.load(Agent, agent.aggregate_id).state == "paused"


def _fields(settings: Settings) -> dict[str, Any]:
    return settings.model_dump()


def _lowest_checkpoint(runner: Any) -> int:
    return min(runner.checkpoint(p.name) for p in runner.projections)


def _within(seconds: float, done: Callable[[], bool]) -> float | None:
    """How long ``done`` took to become true, or None after ``seconds``."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if done():
            return time.monotonic() - began
        time.sleep(0.02)
    return None
