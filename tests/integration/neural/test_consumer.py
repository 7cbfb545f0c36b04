"""The example consumer: exactly once, resumable after a restart, and rebuildable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import NeuralEngine
from adapters.neural.trainer import LogTrainer
from adapters.neural.types import EngineConfig
from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap
from application.simulation.config import load_config
from application.simulation.runner import simulate
from projections.database import read_model_engine
from tests.conftest import sqlite_settings


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Swarmlog:
    app = bootstrap(sqlite_settings(tmp_path_factory.mktemp("neural")))
    simulate(app, load_config(None), agents=8, tasks=150, seed=5)
    return app


def engine_at(path: Path) -> Engine:
    return read_model_engine(f"sqlite:///{path}")


def consumer(app: Swarmlog, engine: Engine, page: int = 1000) -> ExampleConsumer:
    made = ExampleConsumer(app.store, engine, page=page)
    made.setup()
    return made


def test_a_restarted_consumer_resumes_without_duplicating_examples(
    simulated: Swarmlog, tmp_path: Path
) -> None:
    whole = consumer(simulated, engine_at(tmp_path / "whole.db"))
    whole.catch_up()
    expected = whole.examples()
    assert len(expected) > 100
    db = tmp_path / "restarted.db"
    head = simulated.store.head()
    made = 0
    for stop in range(head // 7, head + 1, head // 7):  # seven restarts part-way
        made += consumer(simulated, engine_at(db), page=97).catch_up(stop=stop)
    made += consumer(simulated, engine_at(db)).catch_up()
    again = consumer(simulated, engine_at(db))
    assert again.checkpoint() == head
    assert again.catch_up() == 0
    assert made == len(expected)
    assert again.count() == len(expected)
    assert again.examples() == expected
    assert [e.candidates for e in again.examples()] == [e.candidates for e in expected]


def test_two_consumers_of_one_name_never_write_an_example_twice(
    simulated: Swarmlog, tmp_path: Path
) -> None:
    db = engine_at(tmp_path / "both.db")
    first, second = consumer(simulated, db, page=50), consumer(simulated, db, page=50)
    head = simulated.store.head()
    made = 0
    for stop in range(100, head + 100, 100):  # interleaved: each sees the other move
        made += first.catch_up(stop=stop) + second.catch_up(stop=stop + 50)
    whole = consumer(simulated, engine_at(tmp_path / "whole.db"))
    whole.catch_up()
    assert made == whole.count() == first.count()
    assert first.examples() == whole.examples()


def test_reset_reads_the_log_again_from_the_start(simulated: Swarmlog, tmp_path: Path) -> None:
    reader = consumer(simulated, engine_at(tmp_path / "reset.db"))
    made = reader.catch_up()
    reader.reset()
    assert (reader.checkpoint(), reader.count()) == (0, 0)
    assert reader.catch_up() == made


def test_the_trainer_follows_the_log_in_increments(tmp_path: Path) -> None:
    app = bootstrap(Settings(event_store="memory", snapshot_interval=0))
    try:
        config = load_config(None)
        simulate(app, config, agents=8, tasks=120, seed=1)
        engine = NeuralEngine(EngineConfig(hidden=16, max_epochs=5, update_every=64))
        trainer = LogTrainer(consumer(app, engine_at(tmp_path / "t.db")), engine)
        first = trainer.step()
        assert first is not None
        assert first.kind == "full"
        simulate(app, config, agents=8, tasks=120, seed=2)
        second = trainer.step()
        assert second is not None
        assert second.kind == "incremental"
        assert second.first_position == first.first_position
        assert second.last_position > first.last_position
        assert trainer.step() is None  # nothing new
    finally:
        app.close()
