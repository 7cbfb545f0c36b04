"""The ``neural`` assignment strategy (phase 2 registers it with the bus).

It satisfies :class:`application.assignment.AssignmentStrategy`: among the eligible
agents (the same :func:`~application.assignment.eligible` rule and turn order as the
heuristics) it picks the one the engine gives the highest probability of completing
the task, and scores the choice with that probability. Until the engine has been
trained it falls back to another strategy (capability match by default).

The agents' recent outcomes come from ``history`` (agent id -> (latest outcomes,
attempts), e.g. :meth:`ExampleConsumer.agent_history`), the swarm's facts from
``swarm_of``; both default to "unknown", which the features encode as a prior.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
    engine: NeuralEngine
    history: History | None = None
    swarm_of: Callable[[UUID], SwarmFacts] | None = None
    fallback: AssignmentStrategy = field(default_factory=CapabilityMatch)
    name: str = "neural"

    def choose(self, task: Task, agents: Sequence[Agent], pool: UUID) -> Choice | None:
        ready = eligible(agents)
        if not ready:
            return None
        if self.engine.version is None:
            return self.fallback.choose(task, agents, pool)
        ids = [str(a.id) for a in ready]
        known = self.history(ids) if self.history else {}
        candidates = [
            Candidate(str(a.id), a.name, agent_facts(a, *known.get(str(a.id), ((), 0))))
            for a in ready
        ]
        swarm = self.swarm_of(pool) if self.swarm_of else SwarmFacts("none", len(agents))
        (best,) = self.engine.recommend(task_facts(task), candidates, k=1, swarm=swarm)
        chosen = next(a for a in ready if str(a.id) == best.agent_id)
        return Choice(chosen, best.probability)
