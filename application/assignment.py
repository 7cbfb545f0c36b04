"""Assignment strategies: which of a swarm's agents gets a task, and with what score."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from domain.agent import Agent
from domain.task import Task


@dataclass(frozen=True)
class Choice:
    agent: Agent
    score: float
    note: str | None = None
    """Why, when worth recording (``Task.Assigned.note``): e.g. a strategy's fallback."""


def coverage(required: Sequence[str], capabilities: Sequence[str]) -> float:
    """Share of the required capabilities the agent has (1.0 when none are required)."""
    if not required:
        return 1.0
    return len(set(required) & set(capabilities)) / len(set(required))


def capability_score(task: Task, agent: Agent) -> float:
    """0.4 × spare capacity + 0.6 × capability match, the score the domain places by."""
    return 0.4 * agent.spare_capacity + 0.6 * coverage(
        task.required_capabilities, agent.capabilities
    )


def turn_order(agent: Agent) -> tuple[str, str]:
    """A stable order of agents that does not depend on their random ids."""
    return (agent.name, str(agent.id))


def eligible(agents: Sequence[Agent]) -> list[Agent]:
    """Agents that can take one more task, in turn order."""
    ready = [a for a in agents if a.accepts_work and a.load < a.max_load]
    return sorted(ready, key=turn_order)


class AssignmentStrategy(Protocol):
    name: str

    def choose(self, task: Task, agents: Sequence[Agent], pool: UUID) -> Choice | None:
        """The agent to give ``task`` to among ``agents`` (of ``pool``), or None."""


class CapabilityMatch:
    name = "capability"

    def choose(self, task: Task, agents: Sequence[Agent], pool: UUID) -> Choice | None:
        scored = [Choice(a, capability_score(task, a)) for a in eligible(agents)]
        return max(scored, key=lambda c: c.score, default=None)


class LeastLoaded:
    name = "least_loaded"

    def choose(self, task: Task, agents: Sequence[Agent], pool: UUID) -> Choice | None:
        best = min(eligible(agents), key=lambda a: a.load / a.max_load, default=None)
        return None if best is None else Choice(best, best.spare_capacity)


@dataclass
class RoundRobin:
    """Takes turns through the pool's agents; the turn is kept per process and pool."""

    name: str = "round_robin"
    _last: dict[UUID, tuple[str, str]] = field(default_factory=dict)

    def choose(self, task: Task, agents: Sequence[Agent], pool: UUID) -> Choice | None:
        ready = eligible(agents)
        if not ready:
            return None
        last = self._last.get(pool, ("", ""))
        after = [a for a in ready if turn_order(a) > last]
        chosen = after[0] if after else ready[0]
        self._last[pool] = turn_order(chosen)
        return Choice(chosen, capability_score(task, chosen))


@dataclass
class Deferred:
    """A strategy built on first use: its module may be costly to import (the neural
    strategy imports JAX), and most processes never assign with it."""

    name: str
    build: Callable[[], AssignmentStrategy]
    _built: AssignmentStrategy | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def choose(self, task: Task, agents: Sequence[Agent], pool: UUID) -> Choice | None:
        with self._lock:
            if self._built is None:
                self._built = self.build()
        return self._built.choose(task, agents, pool)


def default_strategies() -> dict[str, AssignmentStrategy]:
    strategies: list[AssignmentStrategy] = [
        CapabilityMatch(),
        LeastLoaded(),
        RoundRobin(),
    ]
    return {s.name: s for s in strategies}
