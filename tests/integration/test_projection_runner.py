"""The projection runner on SQLite and PostgreSQL read models: exactly once, resumable,
dead letters, rebuild without downtime, reset, and the worker."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, select, text

from application.bootstrap import Swarmlog, bootstrap
from application.commands import SpawnAgent
from application.simulation.config import load_config
from application.simulation.runner import simulate
from domain.agent import Agent
from projections import admin
from projections.agents import AgentsProjection
from projections.changes import Changes
from projections.database import read_model_engine
from projections.runner import ProjectionRunner
from projections.worker import Worker
from tests.conftest import sqlite_settings


@pytest.fixture
def app(tmp_path: Path) -> Any:
    swarmlog = bootstrap(sqlite_settings(tmp_path))
    simulate(swarmlog, load_config(None), agents=8, tasks=60, seed=11)
    yield swarmlog
    swarmlog.close()


@pytest.fixture
def engine(read_model_url: str) -> Any:
    engine = read_model_engine(read_model_url)
    yield engine
    engine.dispose()


def agents_table(engine: Engine) -> list[tuple[Any, ...]]:
    view = AgentsProjection().views()["agents"]
    with engine.connect() as conn:
        rows = conn.execute(select(view).order_by(view.c.agent_id)).all()
    return [tuple(r) for r in rows]


def test_catching_up_applies_every_event_once_and_a_second_runner_has_nothing_to_do(
    app: Swarmlog, engine: Engine
) -> None:
    runner = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=13)
    runner.setup()
    assert runner.catch_up() > 0
    first = agents_table(engine)
    again = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=500)
    again.setup()
    assert again.catch_up() == 0
    assert agents_table(engine) == first
    assert runner.status()[0]["lag"] == 0


def test_the_read_model_agrees_with_the_aggregates(app: Swarmlog, engine: Engine) -> None:
    runner = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=50)
    runner.setup()
    runner.catch_up()
    view = AgentsProjection().views()["agents"]
    with engine.connect() as conn:
        rows = conn.execute(select(view)).mappings().all()
    assert rows
    for row in rows:
        agent = app.store.load(Agent, __import__("uuid").UUID(row["agent_id"]))
        assert (row["state"], row["load"], row["completed_count"], row["failed_count"]) == (
            agent.state,
            agent.load,
            agent.completed_count,
            agent.failed_count,
        )


def test_two_runners_racing_on_one_projection_apply_each_event_once(
    app: Swarmlog, engine: Engine
) -> None:
    solo_engine = engine
    runners = [
        ProjectionRunner(app.store, solo_engine, [AgentsProjection()], batch_size=5)
        for _ in range(2)
    ]
    runners[0].setup()
    threads = [threading.Thread(target=r.catch_up) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    raced = agents_table(engine)
    runners[0].rebuild(runners[0].projections[0])
    assert agents_table(engine) == raced


class Fragile(AgentsProjection):
    """Fails on the agent named "poison" while ``broken`` is set."""

    name: ClassVar[str] = "fragile"
    broken: ClassVar[bool] = True

    def spawned(self, changes: Changes, event: Agent.Spawned) -> None:  # type: ignore[override]
        if self.broken and event.name == "poison":
            raise RuntimeError("cannot project this agent")
        super().spawned(changes, event)


class Halting(Fragile):
    name: ClassVar[str] = "halting"
    on_error: ClassVar[str] = "halt"


def spawn(app: Swarmlog, name: str) -> None:
    app.handle(SpawnAgent(name=name, agent_type="coder", capabilities=["python"]))


def test_a_poison_event_is_parked_and_the_rest_flows_on_and_a_retry_after_the_fix_applies_it(
    app: Swarmlog, engine: Engine
) -> None:
    spawn(app, "poison")
    spawn(app, "healthy")
    Fragile.broken = True
    runner = ProjectionRunner(app.store, engine, [Fragile()], batch_size=100, retries=2)
    runner.setup()
    runner.catch_up()
    status = runner.status()[0]
    assert status["dead_letters"] == 1
    assert status["lag"] == 0
    parked = admin.dead_letters(runner, "fragile")
    assert [(p["event_type"], p["attempts"], p["status"]) for p in parked] == [
        ("Agent.Spawned", 2, "parked")
    ]
    names = [r[1] for r in agents_table_of(engine, "agents")]
    assert "healthy" in names
    assert "poison" not in names

    with pytest.raises(RuntimeError):
        admin.retry_dead_letter(runner, "fragile", parked[0]["position"])
    Fragile.broken = False
    try:
        admin.retry_dead_letter(runner, "fragile", parked[0]["position"])
    finally:
        Fragile.broken = True
    assert runner.status()[0]["dead_letters"] == 0
    assert "poison" in [r[1] for r in agents_table_of(engine, "agents")]


def agents_table_of(engine: Engine, view: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{view}"')).all()]


def test_a_skipped_dead_letter_stays_recorded_as_skipped(app: Swarmlog, engine: Engine) -> None:
    spawn(app, "poison")
    runner = ProjectionRunner(app.store, engine, [Fragile()], batch_size=100, retries=1)
    runner.setup()
    runner.catch_up()
    position = admin.dead_letters(runner, "fragile")[0]["position"]
    admin.skip_dead_letter(runner, "fragile", position)
    assert runner.status()[0]["dead_letters"] == 0
    assert admin.dead_letters(runner, "fragile")[0]["status"] == "skipped"
    with pytest.raises(LookupError):
        admin.skip_dead_letter(runner, "fragile", position)


def test_a_projection_that_halts_on_error_stops_before_the_poison_event(
    app: Swarmlog, engine: Engine
) -> None:
    before = app.store.head()
    spawn(app, "poison")
    spawn(app, "healthy")
    runner = ProjectionRunner(app.store, engine, [Halting()], batch_size=100, retries=1)
    runner.setup()
    runner.catch_up()
    status = runner.status()[0]
    assert status["state"] == "halted"
    assert status["checkpoint"] <= before + 1
    assert "healthy" not in [r[1] for r in agents_table_of(engine, "agents")]


def test_readers_never_see_an_empty_or_partial_table_during_a_rebuild(
    app: Swarmlog, engine: Engine
) -> None:
    runner = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=3)
    runner.setup()
    runner.catch_up()
    expected = len(agents_table(engine))
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        with engine.connect() as conn:
            while not done.is_set():
                seen.append(conn.execute(text("SELECT COUNT(*) FROM agents")).scalar_one())
                conn.rollback()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3):
            runner.rebuild(runner.projections[0])
    finally:
        done.set()
        reader.join()
    assert seen
    assert set(seen) == {expected}
    assert runner.status()[0]["generation"] == 4


def test_a_cancelled_rebuild_resumes_where_it_stopped(app: Swarmlog, engine: Engine) -> None:
    runner = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=2)
    runner.setup()
    runner.catch_up()
    before = agents_table(engine)
    cancel = threading.Event()
    assert not runner.rebuild(
        runner.projections[0], progress=lambda *_: cancel.set(), cancel=cancel
    )
    assert runner.status()[0]["state"] == "rebuilding"
    assert agents_table(engine) == before
    assert runner.rebuild(runner.projections[0])
    assert runner.status()[0]["state"] == "running"
    assert agents_table(engine) == before


def test_a_reset_empties_the_projection_and_it_catches_up_again(
    app: Swarmlog, engine: Engine
) -> None:
    runner = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=50)
    runner.setup()
    runner.catch_up()
    before = agents_table(engine)
    admin.reset(runner, "agents")
    assert agents_table(engine) == []
    assert runner.status()[0]["checkpoint"] == 0
    runner.catch_up()
    assert agents_table(engine) == before


def test_the_worker_follows_new_events_until_stopped(app: Swarmlog, engine: Engine) -> None:
    runner = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=50)
    runner.setup()
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(runner, app.settings, poll_seconds=0.05).run, args=(stop,)
    )
    thread.start()
    try:
        spawn(app, "late-comer")
        deadline = time.monotonic() + 30
        while runner.checkpoint("agents") < app.store.head() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runner.checkpoint("agents") == app.store.head()
        assert "late-comer" in [r[1] for r in agents_table(engine)]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_rebuild_gets_past_an_event_already_parked_and_parks_it_only_once(
    app: Swarmlog, engine: Engine
) -> None:
    spawn(app, "poison")
    spawn(app, "healthy")
    runner = ProjectionRunner(app.store, engine, [Fragile()], batch_size=100, retries=1)
    runner.setup()
    runner.catch_up()
    before = agents_table_of(engine, "agents")
    assert runner.rebuild(runner.projections[0])
    assert agents_table_of(engine, "agents") == before
    assert len(admin.dead_letters(runner, "fragile")) == 1
    assert runner.status()[0]["generation"] == 2


class AgentsV2(AgentsProjection):
    version: ClassVar[int] = 2


def test_a_worker_rebuilds_a_projection_whose_version_changed(
    app: Swarmlog, engine: Engine
) -> None:
    old = ProjectionRunner(app.store, engine, [AgentsProjection()], batch_size=50)
    old.setup()
    old.catch_up()
    before = agents_table(engine)
    runner = ProjectionRunner(app.store, engine, [AgentsV2()], batch_size=50)
    runner.setup()
    assert runner.status()[0]["state"] == "outdated"
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(runner, app.settings, poll_seconds=0.05).run, args=(stop,)
    )
    thread.start()
    try:
        finished = time.monotonic() + 30
        while runner.status()[0]["version"] != 2 and time.monotonic() < finished:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=30)
    status = runner.status()[0]
    assert (status["version"], status["generation"], status["state"]) == (2, 2, "running")
    assert agents_table(engine) == before
