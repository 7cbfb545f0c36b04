"""The engine learns a planted rule from events that the real command bus produced."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest

from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import NeuralEngine
from adapters.neural.features import AgentFacts, Candidate, TaskFacts
from adapters.neural.strategy import NeuralStrategy
from adapters.neural.trainer import LogTrainer
from adapters.neural.types import EngineConfig, ModelVersion
from application.bootstrap import Swarmlog, bootstrap
from application.commands import (
    AssignTask,
    CompleteTask,
    CreateTask,
    FailTask,
    InitSwarm,
    JoinSwarm,
    SpawnAgent,
    StartTask,
)
from domain.task import Task
from projections.database import read_model_engine
from tests.conftest import sqlite_settings

TYPES = ("coder", "tester", "documenter")
TASK_TYPES = ("code", "test", "docs")


def succeeds(agent_type: str, task_type: str) -> bool:
    """The planted rule: coders complete code tasks and fail every other kind."""
    return (agent_type == "coder") == (task_type == "code")


def world(app: Swarmlog) -> tuple[UUID, list[tuple[UUID, str]]]:
    swarm = app.handle(InitSwarm(name="planted", topology="mesh", max_agents=10)).aggregate_id
    agents = []
    for i, agent_type in enumerate(TYPES * 2):
        command = SpawnAgent(
            name=f"{agent_type}-{i}", agent_type=agent_type, capabilities=["python"], max_load=3
        )
        agent_id = app.handle(command).aggregate_id
        app.handle(JoinSwarm(swarm_id=swarm, agent_id=agent_id))
        agents.append((agent_id, agent_type))
    return swarm, agents


def run_tasks(
    app: Swarmlog, swarm: UUID, agents: list[tuple[UUID, str]], count: int, seed: int
) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        task_type = rng.choice(TASK_TYPES)
        create = CreateTask(
            description="planted", task_type=task_type, swarm_id=swarm, max_retries=0
        )
        task_id = app.handle(create).aggregate_id
        agent_id, agent_type = rng.choice(agents)
        app.handle(AssignTask(task_id=task_id, agent_id=agent_id))
        app.handle(StartTask(task_id=task_id))
        if succeeds(agent_type, task_type):
            app.handle(CompleteTask(task_id=task_id, result="done"))
        else:
            app.handle(FailTask(task_id=task_id, error="wrong agent"))


@dataclass
class Trained:
    app: Swarmlog
    swarm: UUID
    agents: list[tuple[UUID, str]]
    consumer: ExampleConsumer
    engine: NeuralEngine
    version: ModelVersion


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """450 tasks through the real bus (SQLite), consumed and trained on."""
    folder = tmp_path_factory.mktemp("planted")
    app = bootstrap(sqlite_settings(folder))
    swarm, agents = world(app)
    run_tasks(app, swarm, agents, count=450, seed=1)
    consumer = ExampleConsumer(app.store, read_model_engine(f"sqlite:///{folder}/rm.db"))
    consumer.setup()
    engine = NeuralEngine(EngineConfig(hidden=32, seed=3))
    version = LogTrainer(consumer, engine).retrain()
    yield Trained(app, swarm, agents, consumer, engine, version)
    app.close()


def test_the_engine_learns_the_planted_rule_from_bus_events(trained: Trained) -> None:
    app, engine, consumer = trained.app, trained.engine, trained.consumer
    assert trained.version.examples == 450
    held_out_from = app.store.head()
    run_tasks(app, trained.swarm, trained.agents, count=150, seed=2)
    consumer.catch_up()
    held_out = consumer.examples(after=held_out_from)
    assert len(held_out) == 150
    assert engine.evaluate(held_out)["outcome"].accuracy >= 0.97
    code = TaskFacts("code", "normal", ())
    candidates = [
        Candidate(str(agent_id), f"{agent_type}-{i}", AgentFacts(agent_type, ("python",), 0, 3))
        for i, (agent_id, agent_type) in enumerate(trained.agents)
    ]
    best = engine.recommend(code, candidates, k=2)
    assert [r.name.split("-")[0] for r in best] == ["coder", "coder"]
    docs = TaskFacts("docs", "normal", ())
    assert engine.predict_outcome(docs, candidates[0].agent).label == "failed"


def test_the_neural_strategy_assigns_through_the_bus_by_the_rule(trained: Trained) -> None:
    app = trained.app
    app.strategies["neural"] = NeuralStrategy(trained.engine, trained.consumer.agent_history)
    kinds = {str(agent_id): kind for agent_id, kind in trained.agents}
    for task_type in ("code", "docs", "code", "test"):
        create = CreateTask(description="x", task_type=task_type, swarm_id=trained.swarm)
        task_id = app.handle(create).aggregate_id
        app.handle(AssignTask(task_id=task_id, strategy="neural"))
        task = app.store.load(Task, task_id)
        assert task.assignment_strategy == "neural"
        assert succeeds(kinds[str(task.agent_id)], task_type)
        assert task.assignment_score is not None
        assert task.assignment_score > 0.5
