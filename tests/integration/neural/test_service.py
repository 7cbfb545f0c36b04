"""The neural service: versions recorded as events, export/import, refusal of bad files,
a registry a replay reproduces, and the ``neural`` strategy's recorded fallback."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import numpy as np
import pytest

from adapters.neural.modelfile import ModelFileInvalid
from adapters.neural.service import NeuralService
from adapters.neural.types import EngineConfig
from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap
from application.commands import AssignTask, CreateTask, InitSwarm, JoinSwarm, SpawnAgent
from application.simulation.config import load_config
from application.simulation.runner import simulate
from domain.neural import REGISTRY_ID, ModelRegistry
from domain.task import Task
from projections.database import read_model_engine
from tests.conftest import sqlite_settings

SMALL = EngineConfig(hidden=16, max_epochs=8, patience=3, update_every=64)


def settings_in(folder: Path) -> Settings:
    return sqlite_settings(folder).model_copy(update={"neural_model_dir": folder / "models"})


def service_of(app: Swarmlog, folder: Path) -> NeuralService:
    return NeuralService(
        app.settings, app.store, app.handle, read_model_engine(f"sqlite:///{folder}/rm.db"), SMALL
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Swarmlog, NeuralService, Path]:
    folder = tmp_path_factory.mktemp("neural-service")
    app = bootstrap(settings_in(folder))
    simulate(app, load_config(None), agents=6, tasks=120, seed=3)
    service = service_of(app, folder)
    service.retrain()
    return app, service, folder


def a_pair(app: Swarmlog) -> tuple[UUID, UUID]:
    tasks = [
        e.originator_id
        for e in app.store.recorder.select_notifications(start=1, limit=100_000)
        if ":Task." in e.topic and e.originator_version == 1
    ]
    task: Task = app.store.load(Task, tasks[-1])
    agents = [
        e.originator_id
        for e in app.store.recorder.select_notifications(start=1, limit=100_000)
        if ":Agent." in e.topic and e.originator_version == 1
    ]
    return task.id, agents[0]


def test_training_records_a_version_and_activates_the_first(world: tuple) -> None:
    app, service, _ = world
    registry: ModelRegistry = app.store.load(ModelRegistry, REGISTRY_ID)
    assert registry.active == 1
    entry = registry.version_of(1)
    assert entry is not None
    assert entry["kind"] == "full"
    assert entry["examples"] > 50
    assert entry["last_position"] > entry["first_position"]
    assert "outcome" in entry["metrics"]
    assert entry["hyperparameters"]["hidden"] == 16
    assert service.find(entry["sha256"]) is not None
    status = service.status()
    assert status["active"] == 1
    assert [v["number"] for v in status["versions"]] == [1]


def test_export_then_import_gives_identical_predictions(world: tuple, tmp_path: Path) -> None:
    app, service, _ = world
    task, agent = a_pair(app)
    before = service.predict_outcome(task, agent)
    ranked = service.recommend(task, 3) if app.store.load(Task, task).swarm_id else []
    service.export(tmp_path / "exported.model")
    found = service.import_(tmp_path / "exported.model")
    assert service.status()["active"] == found["version"] > 1
    after = service.predict_outcome(task, agent)
    np.testing.assert_allclose(after.probabilities, before.probabilities, atol=1e-6)
    assert after.model_version == found["version"]
    if ranked:
        again = service.recommend(task, 3)
        assert [r.agent_id for r in again] == [r.agent_id for r in ranked]


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "foreign", "empty", "wrong-layout"])
def test_a_bad_model_file_is_refused_and_nothing_changes(
    world: tuple, tmp_path: Path, damage: str
) -> None:
    app, service, _ = world
    good = tmp_path / "good.model"
    service.export(good)
    data = good.read_bytes()
    bad = tmp_path / "bad.model"
    if damage == "corrupt":
        bad.write_bytes(data[:-100] + bytes(b ^ 0xFF for b in data[-100:]))
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        bad.write_bytes(b"PK\x03\x04 not a model at all" * 50)
    elif damage == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_bytes(data.replace(b'"feature_version": 1', b'"feature_version": 9', 1))
    head, status = app.store.head(), service.status()
    with pytest.raises(ModelFileInvalid) as refused:
        service.import_(bad)
    assert refused.value.code == "MODEL_FILE_INVALID"
    assert app.store.head() == head, "nothing recorded"
    assert service.status()["active"] == status["active"]
    assert service.active is not None
    assert service.active.version is not None
    assert service.active.version.number == status["active"]


def test_a_new_process_on_the_same_store_reproduces_the_registry(world: tuple) -> None:
    app, service, folder = world
    again = bootstrap(app.settings)
    fresh = service_of(again, folder / "other")
    (folder / "other").mkdir(exist_ok=True)
    fresh.load()
    assert fresh.status()["versions"] == service.status()["versions"]
    assert fresh.active is not None
    assert fresh.active.version is not None
    assert fresh.active.version.number == service.status()["active"]
    fresh.consumer.catch_up()  # the same agent histories: the same features
    task, agent = a_pair(app)
    a = service.predict_outcome(task, agent).probabilities
    b = fresh.predict_outcome(task, agent).probabilities
    np.testing.assert_allclose(a, b, atol=1e-6)
    again.close()


def test_the_neural_strategy_records_its_fallback_when_no_model_is_active(
    tmp_path: Path,
) -> None:
    app = bootstrap(settings_in(tmp_path))
    swarm = app.handle(InitSwarm(name="s", topology="mesh")).aggregate_id
    agent = app.handle(SpawnAgent(name="a", agent_type="coder", capabilities=["python"]))
    app.handle(JoinSwarm(swarm_id=swarm, agent_id=agent.aggregate_id))
    task = app.handle(CreateTask(description="d", task_type="code", swarm_id=swarm))
    app.handle(AssignTask(task_id=task.aggregate_id, strategy="neural"))
    assigned: Task = app.store.load(Task, task.aggregate_id)
    assert assigned.assignment_strategy == "neural"
    assert assigned.assignment_note == "fallback: no active model"
    events = [
        e
        for e in app.store.recorder.select_notifications(start=1, limit=1000)
        if e.topic.endswith("Task.Assigned")
    ]
    decoded = app.store.decode(events[-1])
    assert decoded.note == "fallback: no active model"
    app.close()
