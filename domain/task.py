"""The Task aggregate: a unit of work queued, assigned to an agent and run.

Lifecycle: created -> queued (or blocked while dependencies are open) ->
assigned -> running -> completed | failed | cancelled | timed_out. A failed task
is retried (back to queued) until ``max_retries``, unless its failure was
reported as not retryable (a permanent failure: another attempt cannot succeed);
``requeue`` puts an assigned or running task back in the queue when its agent
goes away.

Schema history (see docs/event-evolution.md): ``Task.Failed`` v2 records
``retryable``; a v1 event is upcast with ``retryable=True``, which is what every
failure meant before v2. The aggregate is v2 for its snapshots, which hold the
new ``retryable`` attribute.

``Task.Assigned`` v2 records ``note``: why the strategy chose as it did when that is
worth knowing (the ``neural`` strategy's model version and confidence, or its
fallback to the capability score). A v1 event is upcast with ``note=None``: "not
recorded". The aggregate is v3 for its snapshots, which hold ``assignment_note``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import SwarmlogAggregate
from domain.errors import InvalidTransition, RetriesExhausted, ValidationError
from domain.task_rules import check_dependencies, check_required_capabilities
from domain.task_status import (
    CANCELLABLE,
    FINISHED,
    HELD,
    NEXT,
    PRIORITY_RANK,
    Priority,
    S,
    TaskStatus,
    blocked_refusal,
    refusal,
)
from domain.validation import (
    parse_enum,
    text,
    validate_float,
    validate_int,
    validate_str,
    validate_uuid,
)

__all__ = ["FINISHED", "NEXT", "PRIORITY_RANK", "Priority", "Task", "TaskStatus"]


class Task(SwarmlogAggregate):
    """A task. Invariants: ``waiting_on`` is non-empty only while blocked and is
    a subset of ``dependencies``; ``progress`` never decreases within a run;
    ``retries <= max_retries``; completed, cancelled and timed_out are final, and
    so is failed once its retries are used or its failure is not ``retryable``."""

    class_version = 3
    """v2: the snapshot state has ``retryable``; v3: ``assignment_note`` (older
    snapshots are upcast)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A v1 snapshot predates permanent failures: any failure could be retried."""
        state["retryable"] = True

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """A v2 snapshot predates assignment notes: none was recorded."""
        state["assignment_note"] = None

    class Created(SwarmlogAggregate.Created):
        description: str
        task_type: str
        priority: str
        required_capabilities: list[str]
        dependencies: list[UUID]
        max_retries: int
        timeout_seconds: float
        swarm_id: UUID | None

    class Queued(SwarmlogAggregate.Event):
        pass

    class Blocked(SwarmlogAggregate.Event):
        waiting_on: list[UUID]

    class DependencyResolved(SwarmlogAggregate.Event):
        dependency_id: UUID
        remaining: list[UUID]

    class Assigned(SwarmlogAggregate.Event):
        class_version = 2

        agent_id: UUID
        strategy: str
        score: float
        note: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before v2 no strategy left a note: not recorded."""
            state["note"] = None

    class Started(SwarmlogAggregate.Event):
        pass

    class ProgressReported(SwarmlogAggregate.Event):
        percent: int

    class DependentAdded(SwarmlogAggregate.Event):
        dependent_id: UUID

    class Completed(SwarmlogAggregate.Event):
        agent_id: UUID | None
        result: str
        duration_seconds: float

    class Failed(SwarmlogAggregate.Event):
        """v2 added ``retryable``: False when the reporter knows another attempt
        cannot succeed (bad input, say), so the task is final at once."""

        class_version = 2

        agent_id: UUID | None
        error: str
        retryable: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before v2 every failure could be retried (while retries were left)."""
            state["retryable"] = True

    class Retried(SwarmlogAggregate.Event):
        attempt: int

    class Cancelled(SwarmlogAggregate.Event):
        agent_id: UUID | None
        reason: str

    class TimedOut(SwarmlogAggregate.Event):
        agent_id: UUID | None
        elapsed_seconds: float

    class Requeued(SwarmlogAggregate.Event):
        agent_id: UUID
        reason: str

    @classmethod
    def create(
        cls,
        description: str,
        task_type: str,
        priority: str = "normal",
        required_capabilities: Iterable[str] = (),
        dependencies: Iterable[UUID] = (),
        open_dependencies: Iterable[UUID] = (),
        max_retries: int = 3,
        timeout_seconds: float = 300.0,
        swarm_id: UUID | None = None,
    ) -> Task:
        """Validate, then emit Created and either Queued or Blocked(open deps)."""
        text(description, "description", 2000)
        text(task_type, "task_type", 64)
        level = parse_enum(Priority, priority, "priority").value
        caps = check_required_capabilities(required_capabilities)
        deps, waiting = check_dependencies(dependencies, open_dependencies)
        validate_int(max_retries, "max_retries", 0, 20)
        timeout = validate_float(timeout_seconds, "timeout_seconds", 1, 86400)
        if swarm_id is not None:
            validate_uuid(swarm_id, "swarm_id")
        task = cls(
            description=description,
            task_type=task_type,
            priority=level,
            required_capabilities=caps,
            dependencies=deps,
            max_retries=max_retries,
            timeout_seconds=timeout,
            swarm_id=swarm_id,
        )
        if waiting:
            task._block(waiting_on=waiting)
        else:
            task._queue()
        return task

    @event(Created)
    def __init__(
        self,
        description: str,
        task_type: str,
        priority: str,
        required_capabilities: list[str],
        dependencies: list[UUID],
        max_retries: int,
        timeout_seconds: float,
        swarm_id: UUID | None,
    ) -> None:
        self.description = description
        self.task_type = task_type
        self.priority = priority
        self.required_capabilities = required_capabilities
        self.dependencies = dependencies
        self.waiting_on: list[UUID] = []
        self.max_retries = max_retries
        self.retries = 0
        self.dependents: list[UUID] = []
        self.timeout_seconds = timeout_seconds
        self.swarm_id = swarm_id
        self.status = TaskStatus.CREATED.value
        self.agent_id: UUID | None = None
        self.assignment_strategy: str | None = None
        self.assignment_score: float | None = None
        self.assignment_note: str | None = None
        self.progress = 0
        self.result: str | None = None
        self.error: str | None = None
        self.retryable = True
        self.created_at: datetime = self.created_on
        self.assigned_at: datetime | None = None
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.duration_seconds: float | None = None

    @property
    def is_final(self) -> bool:
        """Completed, cancelled, timed out, or failed with no retries left or for
        good (a failure that is not retryable)."""
        return self.status in FINISHED or (
            self.status == TaskStatus.FAILED
            and (self.retries >= self.max_retries or not self.retryable)
        )

    def _refuse(self, action: str, allowed: Iterable[TaskStatus]) -> InvalidTransition:
        return refusal(self.id, self.status, action, allowed)

    def dependency_completed(self, dependency_id: UUID) -> None:
        """Mark a dependency done; queue the task when it was the last open one.

        A no-op unless the task is blocked waiting on that dependency."""
        if self.status != S.BLOCKED or dependency_id not in self.waiting_on:
            return
        remaining = [d for d in self.waiting_on if d != dependency_id]
        self._resolve(dependency_id=dependency_id, remaining=remaining)

    def assign(self, agent_id: UUID, strategy: str, score: float, note: str | None = None) -> None:
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

    def start(self) -> None:
        if self.status != S.ASSIGNED:
            raise self._refuse("start", [S.ASSIGNED])
        self._start()

    def report_progress(self, percent: int) -> None:
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

    def complete(self, result: str = "") -> None:
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

    def fail(self, error: str, retryable: bool = True) -> None:
        """``retryable=False`` reports a permanent failure: the task will not be retried."""
        if self.status not in HELD:
            raise self._refuse("fail", HELD)
        text(error, "error", 10000)
        if not isinstance(retryable, bool):
            raise ValidationError("retryable must be true or false", field="retryable")
        self._fail(agent_id=self.agent_id, error=error, retryable=retryable)

    def retry(self) -> None:
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

    def cancel(self, reason: str = "") -> None:
        if self.status not in CANCELLABLE:
            raise self._refuse("cancel", CANCELLABLE)
        validate_str(reason, "reason")
        self._cancel(agent_id=self.agent_id, reason=reason)

    def time_out(self, now: datetime) -> None:
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

    def add_dependent(self, dependent_id: UUID) -> None:
        """Remember a task that waits on this one (so its completion can tell it)."""
        if dependent_id not in self.dependents:
            self._add_dependent(dependent_id=dependent_id)

    def requeue(self, reason: str) -> None:
        """The agent left or was terminated: back to the queue, progress reset."""
        if self.status not in HELD:
            raise self._refuse("requeue", HELD)
        validate_str(reason, "reason")
        assert self.agent_id is not None
        self._requeue(agent_id=self.agent_id, reason=reason)

    @event(DependentAdded)
    def _add_dependent(self, dependent_id: UUID) -> None:
        self.dependents = [*self.dependents, dependent_id]

    @event(Queued)
    def _queue(self) -> None:
        self.status = S.QUEUED.value

    @event(Blocked)
    def _block(self, waiting_on: list[UUID]) -> None:
        self.status = S.BLOCKED.value
        self.waiting_on = waiting_on

    @event(DependencyResolved)
    def _resolve(self, dependency_id: UUID, remaining: list[UUID]) -> None:
        self.waiting_on = remaining
        if not remaining:
            self.status = S.QUEUED.value

    @event(Assigned)
    def _assign(
        self,
        agent_id: UUID,
        strategy: str,
        score: float,
        note: str | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        self.status = S.ASSIGNED.value
        self.agent_id = agent_id
        self.assignment_strategy = strategy
        self.assignment_score = score
        self.assignment_note = note
        self.assigned_at = timestamp

    @event(Started)
    def _start(self, timestamp: datetime | None = None) -> None:
        self.status = S.RUNNING.value
        self.started_at = timestamp

    @event(ProgressReported)
    def _report_progress(self, percent: int) -> None:
        self.progress = percent

    @event(Completed)
    def _complete(
        self,
        agent_id: UUID | None,
        result: str,
        duration_seconds: float,
        timestamp: datetime | None = None,
    ) -> None:
        self.status = S.COMPLETED.value
        self.result = result
        self.progress = 100
        self.duration_seconds = duration_seconds
        self.finished_at = timestamp

    @event(Failed)
    def _fail(
        self,
        agent_id: UUID | None,
        error: str,
        retryable: bool,
        timestamp: datetime | None = None,
    ) -> None:
        self.status = S.FAILED.value
        self.error = error
        self.retryable = retryable
        self.finished_at = timestamp

    @event(Retried)
    def _retry(self, attempt: int) -> None:
        self.status = S.QUEUED.value
        self.retries = attempt
        self._release()
        self.finished_at = None

    @event(Cancelled)
    def _cancel(
        self, agent_id: UUID | None, reason: str, timestamp: datetime | None = None
    ) -> None:
        self.status = S.CANCELLED.value
        self.finished_at = timestamp

    @event(TimedOut)
    def _time_out(
        self,
        agent_id: UUID | None,
        elapsed_seconds: float,
        timestamp: datetime | None = None,
    ) -> None:
        self.status = S.TIMED_OUT.value
        self.duration_seconds = elapsed_seconds
        self.finished_at = timestamp

    @event(Requeued)
    def _requeue(self, agent_id: UUID, reason: str) -> None:
        self.status = S.QUEUED.value
        self._release()

    def _release(self) -> None:
        self.agent_id = None
        self.assignment_strategy = None
        self.assignment_score = None
        self.assignment_note = None
        self.assigned_at = None
        self.started_at = None
        self.progress = 0
