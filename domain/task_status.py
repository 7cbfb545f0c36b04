"""A task's priorities and statuses, which status may follow which, and the
refusal that explains a move the table does not allow."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from uuid import UUID

from domain.errors import InvalidTransition


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"
    BACKGROUND = "background"


PRIORITY_RANK: dict[str, int] = {p.value: rank for rank, p in enumerate(Priority)}


class TaskStatus(StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    BLOCKED = "blocked"
    ASSIGNED = "assigned"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


S = TaskStatus
FINISHED = frozenset({S.COMPLETED, S.CANCELLED, S.TIMED_OUT})
NEXT: dict[TaskStatus, tuple[TaskStatus, ...]] = {
    S.CREATED: (S.QUEUED, S.BLOCKED, S.CANCELLED),
    S.QUEUED: (S.ASSIGNED, S.CANCELLED),
    S.BLOCKED: (S.QUEUED, S.CANCELLED),
    S.ASSIGNED: (S.RUNNING, S.FAILED, S.QUEUED, S.CANCELLED, S.TIMED_OUT),
    S.RUNNING: (S.COMPLETED, S.FAILED, S.QUEUED, S.CANCELLED, S.TIMED_OUT),
    S.FAILED: (S.QUEUED,),
    S.COMPLETED: (),
    S.CANCELLED: (),
    S.TIMED_OUT: (),
}
CANCELLABLE = (S.CREATED, S.QUEUED, S.BLOCKED, S.ASSIGNED, S.RUNNING)
HELD = (S.ASSIGNED, S.RUNNING)


def refusal(
    task_id: UUID, status: str, action: str, allowed: Iterable[TaskStatus]
) -> InvalidTransition:
    """``action`` is not allowed from ``status``: name where it is allowed from
    and where a task in ``status`` can go instead."""
    allowed_from = [s.value for s in allowed]
    next_states = [s.value for s in NEXT[TaskStatus(status)]]
    return InvalidTransition(
        f"cannot {action} a task that is {status}; {action} is allowed "
        f"only from {', '.join(allowed_from)} (from {status} it can go "
        f"to: {', '.join(next_states) or 'nothing, it is final'})",
        task_id=str(task_id),
        current=status,
        allowed=allowed_from,
        next=next_states,
    )


def blocked_refusal(task_id: UUID, waiting_on: Iterable[UUID]) -> InvalidTransition:
    """A blocked task is not assigned: name the dependencies it still waits on."""
    open_deps = [str(d) for d in waiting_on]
    return InvalidTransition(
        f"cannot assign a blocked task; it waits on open dependencies: {', '.join(open_deps)}",
        task_id=str(task_id),
        current=S.BLOCKED.value,
        allowed=[S.QUEUED.value],
        waiting_on=open_deps,
    )
