"""The Task aggregate: a unit of work queued, assigned to an agent and run.

Lifecycle: created -> queued (or blocked while dependencies are open) ->
assigned -> running -> completed | failed | cancelled | timed_out. A failed task
is retried (back to queued) until ``max_retries``, unless its failure was
reported as not retryable (a permanent failure: another attempt cannot succeed);
``requeue`` puts an assigned or running task back in the queue when its agent
goes away.

Commands: domain/task_commands.py; schema history and upcasters: domain/task_evolution.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from domain import task_evolution as evolution
from domain.base import SwarmlogAggregate
from domain.task_commands import TaskCommands
from domain.task_rules import check_dependencies, check_required_capabilities
from domain.task_status import FINISHED, NEXT, PRIORITY_RANK, Priority, S, TaskStatus
from domain.validation import parse_enum, text, validate_float, validate_int, validate_uuid

__all__ = ["FINISHED", "NEXT", "PRIORITY_RANK", "Priority", "Task", "TaskStatus"]


class Task(TaskCommands, SwarmlogAggregate):
    """A task. Invariants: ``waiting_on`` is non-empty only while blocked and is
    a subset of ``dependencies``; ``progress`` never decreases within a run;
    ``retries <= max_retries``; completed, cancelled and timed_out are final, and
    so is failed once its retries are used or its failure is not ``retryable``."""

    class_version = 3
    """v2: the snapshot state has ``retryable``; v3: ``assignment_note`` (older
    snapshots are upcast)."""

    upcast_v1_v2 = staticmethod(evolution.snapshot_v1_v2)
    upcast_v2_v3 = staticmethod(evolution.snapshot_v2_v3)

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
        upcast_v1_v2 = staticmethod(evolution.assigned_v1_v2)

        agent_id: UUID
        strategy: str
        score: float
        note: str | None

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
        upcast_v1_v2 = staticmethod(evolution.failed_v1_v2)

        agent_id: UUID | None
        error: str
        retryable: bool

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
