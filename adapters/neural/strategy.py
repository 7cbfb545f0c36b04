"""The ``neural`` assignment strategy (phase 2 registers it with the bus).

It satisfies :class:`application.assignment.AssignmentStrategy`: among the eligible
agents (the same :func:`~application.assignment.eligible` rule and turn order as the
heuristics) it picks the one the engine gives the highest probability of completing
the task, and scores the choice with that probability. It falls back to another
strategy (capability match by default) when no model is active (``engine`` is None,
untrained, or a callable answering None) or when the recommendation's confidence is
below ``min_confidence``. Either way the choice carries a note that the handler records
in ``Task.Assigned.note``: ``model v3, confidence 0.81``, ``fallback: no active
model`` or ``fallback: confidence 0.12 < 0.2``.

``engine`` may be a callable returning the engine to use now: the
:class:`~adapters.neural.service.NeuralService` swaps in a new engine when another
version is activated, and the strategy follows.

The agents' recent outcomes come from ``history`` (agent id -> (latest outcomes,
attempts), e.g. :meth:`ExampleConsumer.agent_history`), the swarm's facts from
``swarm_of``; both default to "unknown", which the features encode as a prior.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from uuid import UUID

from adapters.neural.engine import NeuralEngine
from adapters.neural.features import AgentFacts, Candidate, SwarmFacts, TaskFacts, recent_success
from application.assignment import AssignmentStrategy, CapabilityMatch, Choice, eligible
from domain.agent import Agent
from domain.task import Task

History = Callable[[Sequence[str]], Mapping[str, tuple[Sequence[int], int]]]


def task_facts(task: Task) -> TaskFacts:
    return TaskFacts(task.task_type, task.priority, tuple(sorted(task.required_capabilities)))


def agent_facts(agent: Agent, outcomes: Sequence[int] = (), attempts: int = 0) -> AgentFacts:
    """The agent as it is now (its load before taking another task)."""
    return AgentFacts(
        agent_type=agent.agent_type,
        capabilities=tuple(agent.capabilities),
        load=agent.load,
        max_load=agent.max_load,
        recent_success=recent_success(outcomes),
        attempts=attempts,
    )


@dataclass
class NeuralStrategy:
    engine: NeuralEngine | Callable[[], NeuralEngine | None] | None
    history: History | None = None
    swarm_of: Callable[[UUID], SwarmFacts] | None = None
    fallback: AssignmentStrategy = field(default_factory=CapabilityMatch)
    min_confidence: float = 0.0
    name: str = "neural"

    def current(self) -> NeuralEngine | None:
        """The engine to use now, if one is trained."""
        engine = self.engine() if callable(self.engine) else self.engine
        return engine if engine is not None and engine.version is not None else None

    def _fall_back(
        self, task: Task, agents: Sequence[Agent], pool: UUID, why: str
    ) -> Choice | None:
        found = self.fallback.choose(task, agents, pool)
        return None if found is None else replace(found, note=f"fallback: {why}")

    def choose(self, task: Task, agents: Sequence[Agent], pool: UUID) -> Choice | None:
        ready = eligible(agents)
        if not ready:
            return None
        engine = self.current()
        if engine is None:
            return self._fall_back(task, agents, pool, "no active model")
        ids = [str(a.id) for a in ready]
        known = self.history(ids) if self.history else {}
        candidates = [
            Candidate(str(a.id), a.name, agent_facts(a, *known.get(str(a.id), ((), 0))))
            for a in ready
        ]
        swarm = self.swarm_of(pool) if self.swarm_of else SwarmFacts("none", len(agents))
        (best,) = engine.recommend(task_facts(task), candidates, k=1, swarm=swarm)
        if best.confidence < self.min_confidence:
            why = f"confidence {best.confidence:.2f} < {self.min_confidence:g}"
            return self._fall_back(task, agents, pool, why)
        chosen = next(a for a in ready if str(a.id) == best.agent_id)
        note = f"model v{best.model_version}, confidence {best.confidence:.2f}"
        return Choice(chosen, best.probability, note)
