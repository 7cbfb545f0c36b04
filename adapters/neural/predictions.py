"""Predictions about the log's tasks and agents (the facts of a task, its swarm and its
candidate agents as they are now, put to the active engine), and the engine's metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import NeuralEngine
from adapters.neural.features import Candidate, SwarmFacts
from adapters.neural.learning import newest
from adapters.neural.strategy import agent_facts, task_facts
from adapters.neural.types import Prediction
from application.assignment import eligible
from application.store import EventStore
from domain.agent import Agent
from domain.errors import DomainError, ValidationError
from domain.swarm import Swarm
from domain.task import Task


class NoActiveModel(DomainError):
    """A prediction was asked for and no model version is active yet."""

    code = "NO_ACTIVE_MODEL"


@dataclass(frozen=True)
class Recommended:
    agent_id: str
    name: str
    probability: float
    confidence: float
    model_version: int


class Predictions:
    """Builds the facts the engine reads from the store and the consumer's histories."""

    def __init__(self, store: EventStore, consumer: ExampleConsumer) -> None:
        self.store, self.consumer = store, consumer

    def _facts(self, task_id: UUID) -> tuple[Task, SwarmFacts]:
        task: Task = self.store.load(Task, task_id)
        swarm = (
            SwarmFacts() if task.swarm_id is None else self.consumer.swarm_facts(str(task.swarm_id))
        )
        return task, swarm

    def _candidate(self, agent: Agent) -> Candidate:
        known = self.consumer.agent_history([str(agent.id)])
        return Candidate(
            str(agent.id), agent.name, agent_facts(agent, *known.get(str(agent.id), ((), 0)))
        )

    def outcome(self, engine: NeuralEngine, task_id: UUID, agent_id: UUID) -> Prediction:
        """P(failed), P(completed) of ``task`` if ``agent`` (as it is now) took it."""
        task, swarm = self._facts(task_id)
        agent: Agent = self.store.load(Agent, agent_id)
        return engine.predict_outcome(task_facts(task), self._candidate(agent).agent, swarm)

    def recommend(self, engine: NeuralEngine, task_id: UUID, k: int) -> list[Recommended]:
        """The ``k`` agents of the task's swarm that can take it now, most likely to
        complete it first."""
        task, swarm = self._facts(task_id)
        if task.swarm_id is None:
            raise ValidationError("the task belongs to no swarm: no agents to rank", field="taskId")
        members = self.store.load(Swarm, task.swarm_id).members
        agents = eligible([self.store.load(Agent, UUID(m)) for m in members])
        known = self.consumer.agent_history([str(a.id) for a in agents])
        candidates = [
            Candidate(str(a.id), a.name, agent_facts(a, *known.get(str(a.id), ((), 0))))
            for a in agents
        ]
        found = engine.recommend(task_facts(task), candidates, k=k, swarm=swarm)
        return [Recommended(**asdict(r)) for r in found]

    def evaluate(self, engine: NeuralEngine, holdout: float) -> dict[str, Any]:
        """``engine``'s metrics on the examples it has not learned from (those after its
        span), or, when there are none, on the newest ``holdout`` share of the log
        (which it may have seen: then ``unseen`` is false)."""
        assert engine.version is not None
        self.consumer.catch_up()
        unseen = self.consumer.examples(after=engine.version.last_position)
        rows = unseen if unseen else newest(self.consumer.examples(), holdout)
        metrics = engine.evaluate(rows) if rows else {}
        return {
            "version": engine.version.number,
            "examples": len(rows),
            "unseen": bool(unseen),
            "metrics": {p: m.as_dict() for p, m in metrics.items()},
        }
