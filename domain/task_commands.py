"""The commands of a task: each checks that the move is allowed from the task's
status and that its arguments are valid, then triggers the event that makes it.
``TaskCommands`` is mixed into the Task aggregate, which holds the events and
applies them (see domain/task.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.base import SwarmlogAggregate
from domain.errors import InvalidTransition, RetriesExhausted, ValidationError
from domain.task_status import (
    CANCELLABLE,
    FINISHED,
    HELD,
    S,
    TaskStatus,
    blocked_refusal,
    refusal,
)
from domain.validation import text, validate_float, validate_int, validate_str, validate_uuid


class TaskState(Protocol):
    """What the commands read of a task, and the methods that trigger its events."""

    status: str
    waiting_on: list[UUID]
    dependents: list[UUID]
    agent_id: UUID | None
    progress: int
    retries: int
    max_retries: int
    retryable: bool
    timeout_seconds: float
    assigned_at: datetime | None
    started_at: datetime | None

    @property
    def id(self) -> UUID: ...
    @property
    def Completed(self) -> type[SwarmlogAggregate.Event]: ...  # noqa: N802 (the event class)

    def _refuse(self, action: str, allowed: Iterable[TaskStatus]) -> InvalidTransition: ...
    def _add_dependent(self, dependent_id: UUID) -> None: ...
    def _resolve(self, dependency_id: UUID, remaining: list[UUID]) -> None: ...
    def _assign(
        self,
        agent_id: UUID,
        strategy: str,
        score: float,
        note: str | None = None,
        timestamp: datetime | None = None,
    ) -> None: ...
    def _start(self, timestamp: datetime | None = None) -> None: ...
    def _report_progress(self, percent: int) -> None: ...
    def _complete(
        self,
        agent_id: UUID | None,
        result: str,
        duration_seconds: float,
        timestamp: datetime | None = None,
    ) -> None: ...
    def _fail(
        self, agent_id: UUID | None, error: str, retryable: bool, timestamp: datetime | None = None
    ) -> None: ...
    def _retry(self, attempt: int) -> None: ...
    def _cancel(
        self, agent_id: UUID | None, reason: str, timestamp: datetime | None = None
    ) -> None: ...
    def _time_out(
        self, agent_id: UUID | None, elapsed_seconds: float, timestamp: datetime | None = None
    ) -> None: ...
    def _requeue(self, agent_id: UUID, reason: str) -> None: ...


class TaskCommands:
    """The Task aggregate's commands (a mixin: see :class:`TaskState`)."""

    @property
    def is_final(self: TaskState) -> bool:
        """Completed, cancelled, timed out, or failed with no retries left or for
        good (a failure that is not retryable)."""
        return self.status in FINISHED or (
            self.status == TaskStatus.FAILED
            and (self.retries >= self.max_retries or not self.retryable)
        )

    def _refuse(self: TaskState, action: str, allowed: Iterable[TaskStatus]) -> InvalidTransition:
        return refusal(self.id, self.status, action, allowed)

    def dependency_completed(self: TaskState, dependency_id: UUID) -> None:
        """Mark a dependency done; queue the task when it was the last open one.

        A no-op unless the task is blocked waiting on that dependency."""
        if self.status != S.BLOCKED or dependency_id not in self.waiting_on:
            return
        remaining = [d for d in self.waiting_on if d != dependency_id]
        self._resolve(dependency_id=dependency_id, remaining=remaining)

    def assign(
        self: TaskState, agent_id: UUID, strategy: str, score: float, note: str | None = None
    ) -> None:
        """``note``: why the strategy chose so (e.g. the neural strategy's fallback)."""
        if self.status == S.BLOCKED:
            raise blocked_refusal(self.id, self.waiting_on)
        if self.status != S.QUEUED:
            raise self._refuse("assign", [S.QUEUED])
        validate_uuid(agent_id, "agent_id")
        text(strategy, "strategy", 64)
        if note is not None:
            text(note, "note", 200)
        self._assign(
            agent_id=agent_id,
            strategy=strategy,
            score=validate_float(score, "score"),
            note=note,
        )

    def start(self: TaskState) -> None:
        if self.status != S.ASSIGNED:
            raise self._refuse("start", [S.ASSIGNED])
        self._start()

    def report_progress(self: TaskState, percent: int) -> None:
        """Progress is an integer percent that never goes down within a run."""
        if self.status != S.RUNNING:
            raise self._refuse("report progress on", [S.RUNNING])
        validate_int(percent, "percent", 0, 100)
        if percent < self.progress:
            raise ValidationError(
                f"progress cannot go down: it is {self.progress}%, got {percent}%",
                field="percent",
                current=self.progress,
            )
        self._report_progress(percent=percent)

    def complete(self: TaskState, result: str = "") -> None:
        if self.status != S.RUNNING:
            raise self._refuse("complete", [S.RUNNING])
        validate_str(result, "result")
        now = self.Completed.create_timestamp()
        started = self.started_at or now
        self._complete(
            agent_id=self.agent_id,
            result=result,
            duration_seconds=max((now - started).total_seconds(), 0.0),
            timestamp=now,
        )

    def fail(self: TaskState, error: str, retryable: bool = True) -> None:
        """``retryable=False`` reports a permanent failure: the task will not be retried."""
        if self.status not in HELD:
            raise self._refuse("fail", HELD)
        text(error, "error", 10000)
        if not isinstance(retryable, bool):
            raise ValidationError("retryable must be true or false", field="retryable")
        self._fail(agent_id=self.agent_id, error=error, retryable=retryable)

    def retry(self: TaskState) -> None:
        """Back to queued; refused with RetriesExhausted after max_retries."""
        if self.status != S.FAILED:
            raise self._refuse("retry", [S.FAILED])
        if not self.retryable:
            raise InvalidTransition(
                "cannot retry a task whose failure was reported as not retryable; it stays failed",
                task_id=str(self.id),
                current=self.status,
                retryable=False,
            )
        if self.retries >= self.max_retries:
            raise RetriesExhausted(
                f"task has used all {self.max_retries} retries and stays failed",
                task_id=str(self.id),
                retries=self.retries,
                max_retries=self.max_retries,
            )
        self._retry(attempt=self.retries + 1)

    def cancel(self: TaskState, reason: str = "") -> None:
        if self.status not in CANCELLABLE:
            raise self._refuse("cancel", CANCELLABLE)
        validate_str(reason, "reason")
        self._cancel(agent_id=self.agent_id, reason=reason)

    def time_out(self: TaskState, now: datetime) -> None:
        """Allowed once timeout_seconds have passed since start (or assignment)."""
        if self.status not in HELD:
            raise self._refuse("time out", HELD)
        since = self.started_at or self.assigned_at
        assert since is not None
        elapsed = (now - since).total_seconds()
        if elapsed < self.timeout_seconds:
            left = self.timeout_seconds - elapsed
            raise InvalidTransition(
                f"cannot time out a task that is {self.status}: not yet due, "
                f"{left:.1f} s left of its {self.timeout_seconds:g} s timeout",
                task_id=str(self.id),
                current=self.status,
                seconds_left=left,
            )
        self._time_out(agent_id=self.agent_id, elapsed_seconds=elapsed)

    def add_dependent(self: TaskState, dependent_id: UUID) -> None:
        """Remember a task that waits on this one (so its completion can tell it)."""
        if dependent_id not in self.dependents:
            self._add_dependent(dependent_id=dependent_id)

    def requeue(self: TaskState, reason: str) -> None:
        """The agent left or was terminated: back to the queue, progress reset."""
        if self.status not in HELD:
            raise self._refuse("requeue", HELD)
        validate_str(reason, "reason")
        assert self.agent_id is not None
        self._requeue(agent_id=self.agent_id, reason=reason)
