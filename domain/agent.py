"""The Agent aggregate: a worker with a lifecycle, a load and a voting record.

Invariants:
- ``state`` only ever moves along an edge of :data:`TRANSITIONS`; ``terminated``
  is final and is reached only through :meth:`Agent.terminate`.
- ``len(current_tasks) <= max_load``; tasks are taken only in a state of
  :data:`ACCEPTS_WORK`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from domain.base import SwarmlogAggregate
from domain.errors import (
    CapacityExceeded,
    InvalidTransition,
    NotAllowed,
    ValidationError,
)
from domain.validation import (
    normalize_capabilities,
    parse_enum,
    validate_int,
    validate_name,
)


class AgentType(StrEnum):
    COORDINATOR = "coordinator"
    RESEARCHER = "researcher"
    CODER = "coder"
    ANALYST = "analyst"
    ARCHITECT = "architect"
    TESTER = "tester"
    REVIEWER = "reviewer"
    OPTIMIZER = "optimizer"
    DOCUMENTER = "documenter"
    MONITOR = "monitor"
    SPECIALIST = "specialist"


class AgentState(StrEnum):
    CREATED = "created"
    INITIALIZING = "initializing"
    READY = "ready"
    WORKING = "working"
    WAITING = "waiting"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"
    TERMINATED = "terminated"


S = AgentState
TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.CREATED: frozenset({S.INITIALIZING, S.ERROR, S.TERMINATED}),
    S.INITIALIZING: frozenset({S.READY, S.ERROR, S.TERMINATED}),
    S.READY: frozenset({S.WORKING, S.WAITING, S.PAUSED, S.STOPPING, S.ERROR, S.TERMINATED}),
    S.WORKING: frozenset({S.READY, S.WAITING, S.PAUSED, S.STOPPING, S.ERROR, S.TERMINATED}),
    S.WAITING: frozenset({S.READY, S.WORKING, S.PAUSED, S.STOPPING, S.ERROR, S.TERMINATED}),
    S.PAUSED: frozenset({S.READY, S.WORKING, S.WAITING, S.STOPPING, S.ERROR, S.TERMINATED}),
    S.STOPPING: frozenset({S.STOPPED, S.ERROR, S.TERMINATED}),
    S.STOPPED: frozenset({S.INITIALIZING, S.TERMINATED}),
    S.ERROR: frozenset({S.INITIALIZING, S.STOPPING, S.TERMINATED}),
    S.TERMINATED: frozenset(),
}

ACCEPTS_WORK = frozenset({S.READY, S.WORKING, S.WAITING})
RELEASE_OUTCOMES = ("completed", "failed", "cancelled", "timed_out", "requeued")
EXPERTISE_HALF_LIFE = timedelta(days=7)


def allowed_from(state: AgentState | str) -> list[str]:
    """The states reachable from ``state`` in one step, sorted."""
    return sorted(s.value for s in TRANSITIONS[AgentState(state)])


class Agent(SwarmlogAggregate):
    """A worker agent. See the module docstring for its invariants."""

    class Spawned(SwarmlogAggregate.Created):
        name: str
        agent_type: str
        capabilities: list[str]
        max_load: int

    class Transitioned(SwarmlogAggregate.Event):
        from_state: str
        to_state: str
        reason: str

    class TaskTaken(SwarmlogAggregate.Event):
        task_id: UUID

    class TaskReleased(SwarmlogAggregate.Event):
        task_id: UUID
        outcome: str

    class Terminated(SwarmlogAggregate.Event):
        from_state: str
        reason: str
        released_task_ids: list[UUID]

    class VoteScored(SwarmlogAggregate.Event):
        proposal_id: UUID
        agreed: bool

    @classmethod
    def spawn(
        cls,
        name: str,
        agent_type: AgentType | str,
        capabilities: Iterable[str],
        max_load: int = 3,
    ) -> Agent:
        return cls(
            name=validate_name(name),
            agent_type=parse_enum(AgentType, agent_type, "agent_type").value,
            capabilities=normalize_capabilities(capabilities),
            max_load=validate_int(max_load, "max_load", 1, 100),
        )

    @event(Spawned)
    def __init__(self, name: str, agent_type: str, capabilities: list[str], max_load: int) -> None:
        self.name = name
        self.agent_type = agent_type
        self.capabilities = list(capabilities)
        self.max_load = max_load
        self.state: str = AgentState.CREATED.value
        self.current_tasks: list[UUID] = []
        self.completed_count = 0
        self.failed_count = 0
        self.votes_cast = 0
        self.votes_agreed = 0
        self.last_vote_at: datetime | None = None

    @property
    def load(self) -> int:
        return len(self.current_tasks)

    @property
    def spare_capacity(self) -> float:
        return (self.max_load - self.load) / self.max_load

    @property
    def accepts_work(self) -> bool:
        return self.state in ACCEPTS_WORK

    @property
    def success_rate(self) -> float:
        done = self.completed_count + self.failed_count
        return self.completed_count / done if done else 0.0

    def expertise(self, now: datetime) -> float:
        """0.6 * accuracy + 0.2 * recency + 0.2 * volume, in [0, 1]."""
        accuracy = self.votes_agreed / self.votes_cast if self.votes_cast else 0.5
        recency = 0.0
        if self.last_vote_at is not None:
            age = max(timedelta(0), now - self.last_vote_at)
            recency = math.exp(-(age / EXPERTISE_HALF_LIFE))
        volume = min(1.0, self.votes_cast / 20)
        return 0.6 * accuracy + 0.2 * recency + 0.2 * volume

    def transition(self, to: AgentState | str, reason: str = "") -> None:
        target = parse_enum(AgentState, to, "state")
        if target is AgentState.TERMINATED:
            raise NotAllowed(
                "termination goes through terminate(), not transition()",
                current=self.state,
            )
        allowed = TRANSITIONS[AgentState(self.state)]
        if target not in allowed:
            names = allowed_from(self.state)
            raise InvalidTransition(
                f"agent is {self.state}; it cannot become {target.value}; "
                f"allowed: {', '.join(names) or 'none (final)'}",
                current=self.state,
                requested=target.value,
                allowed=names,
            )
        self._transition(from_state=self.state, to_state=target.value, reason=reason)

    def pause(self, reason: str = "") -> None:
        self.transition(AgentState.PAUSED, reason)

    def resume(self) -> None:
        """Back to work from ``paused``: working if it holds tasks, else ready."""
        if self.state != AgentState.PAUSED:
            raise InvalidTransition(
                f"agent is {self.state}; only a paused agent can resume",
                current=self.state,
                allowed=[AgentState.PAUSED.value],
            )
        to = AgentState.WORKING if self.current_tasks else AgentState.READY
        self.transition(to, "resumed")

    def terminate(self, reason: str = "") -> None:
        if self.state == AgentState.TERMINATED:
            raise InvalidTransition(
                "agent is terminated already; terminated is final",
                current=self.state,
                allowed=[],
            )
        self._terminate(
            from_state=self.state,
            reason=reason,
            released_task_ids=list(self.current_tasks),
        )

    def take_task(self, task_id: UUID) -> None:
        """Idempotent: taking a task it already holds changes nothing."""
        if task_id in self.current_tasks:
            return
        if self.state not in ACCEPTS_WORK:
            raise InvalidTransition(
                f"agent is {self.state}; it takes work only when ready, working or waiting",
                current=self.state,
                allowed=sorted(s.value for s in ACCEPTS_WORK),
            )
        if self.load >= self.max_load:
            raise CapacityExceeded(
                f"agent holds {self.load} of at most {self.max_load} tasks",
                load=self.load,
                max_load=self.max_load,
            )
        self._take_task(task_id=task_id)

    def release_task(self, task_id: UUID, outcome: str) -> None:
        """Idempotent: releasing a task it does not hold changes nothing."""
        if outcome not in RELEASE_OUTCOMES:
            raise ValidationError(
                f"outcome {outcome!r} is unknown; allowed: {', '.join(RELEASE_OUTCOMES)}",
                field="outcome",
                allowed=list(RELEASE_OUTCOMES),
            )
        if task_id not in self.current_tasks:
            return
        self._release_task(task_id=task_id, outcome=outcome)

    def score_vote(self, proposal_id: UUID, agreed: bool) -> None:
        self._score_vote(proposal_id=proposal_id, agreed=bool(agreed))

    @event(Transitioned)
    def _transition(self, from_state: str, to_state: str, reason: str) -> None:
        self.state = to_state

    @event(Terminated)
    def _terminate(self, from_state: str, reason: str, released_task_ids: list[UUID]) -> None:
        self.state = AgentState.TERMINATED.value
        self.current_tasks = []

    @event(TaskTaken)
    def _take_task(self, task_id: UUID) -> None:
        self.current_tasks = [*self.current_tasks, task_id]
        self.state = AgentState.WORKING.value

    @event(TaskReleased)
    def _release_task(self, task_id: UUID, outcome: str) -> None:
        self.current_tasks = [t for t in self.current_tasks if t != task_id]
        if outcome == "completed":
            self.completed_count += 1
        elif outcome in ("failed", "timed_out"):
            self.failed_count += 1
        if not self.current_tasks and self.state == AgentState.WORKING:
            self.state = AgentState.READY.value

    @event(VoteScored)
    def _score_vote(
        self, proposal_id: UUID, agreed: bool, timestamp: datetime | None = None
    ) -> None:
        self.votes_cast += 1
        self.votes_agreed += int(agreed)
        self.last_vote_at = timestamp
