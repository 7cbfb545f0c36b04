"""A task's priorities and statuses, and which status may follow which."""

from __future__ import annotations

from enum import StrEnum


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
