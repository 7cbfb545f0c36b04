"""The tasks read model: each task's status, assignment, timings and outcome, and its
dependencies (with whether each is resolved, i.e. no longer waited on)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, Float, Integer, String, Text

from domain.task import Task
from projections.changes import Changes
from projections.columns import id_column, json_column, sid, time_column
from projections.projection import Projection, handles


def _task_columns() -> list[Column[Any]]:
    return [
        id_column("task_id", primary_key=True),
        Column("description", Text, nullable=False),
        Column("task_type", String(64), nullable=False),
        Column("priority", String(20), nullable=False, index=True),
        json_column("required_capabilities"),
        Column("status", String(20), nullable=False, index=True),
        _indexed_id("agent_id"),
        _indexed_id("swarm_id"),
        Column("assignment_strategy", String(64)),
        Column("assignment_score", Float),
        Column("assignment_note", String(200)),
        Column("progress", Integer, nullable=False),
        Column("retries", Integer, nullable=False),
        Column("max_retries", Integer, nullable=False),
        Column("timeout_seconds", Float, nullable=False),
        Column("result", Text),
        Column("error", Text),
        time_column("created_at"),
        time_column("assigned_at"),
        time_column("started_at"),
        time_column("finished_at"),
        Column("duration_seconds", Float),
        Column("version", Integer, nullable=False),
        time_column("updated_at"),
    ]


def _indexed_id(name: str) -> Column[Any]:
    return Column(name, String(36), index=True)


def _dependency_columns() -> list[Column[Any]]:
    return [
        id_column("task_id", primary_key=True),
        id_column("dependency_id", primary_key=True),
        Column("resolved", Boolean, nullable=False),
    ]


RELEASED = {
    "agent_id": None,
    "assignment_strategy": None,
    "assignment_score": None,
    "assignment_note": None,
    "assigned_at": None,
    "started_at": None,
    "progress": 0,
}
"""What the aggregate's ``_release`` resets when a task goes back to the queue."""


class TasksProjection(Projection):
    name: ClassVar[str] = "tasks"
    version: ClassVar[int] = 2
    """v2: ``assignment_note`` (``Task.Assigned`` v2)."""
    columns = {"tasks": _task_columns, "task_dependencies": _dependency_columns}

    def prefetch(self, changes: Changes, events: list[Any]) -> None:
        changes.prefetch("tasks", sorted({sid(e.originator_id) for e in events}))
        keys = {
            (sid(e.originator_id), sid(d))
            for e in events
            if isinstance(e, Task.Blocked | Task.DependencyResolved)
            for d in (e.waiting_on if isinstance(e, Task.Blocked) else [e.dependency_id])
        }
        if keys:
            changes.prefetch("task_dependencies", sorted(keys))

    def _touch(self, changes: Changes, event: Any, **values: Any) -> dict[str, Any] | None:
        return changes.update(
            "tasks",
            sid(event.originator_id),
            version=event.originator_version,
            updated_at=event.timestamp,
            **values,
        )

    @handles(Task.Created)
    def created(self, changes: Changes, event: Task.Created) -> None:
        task_id = sid(event.originator_id)
        changes.put(
            "tasks",
            {
                "task_id": task_id,
                "description": event.description,
                "task_type": event.task_type,
                "priority": event.priority,
                "required_capabilities": list(event.required_capabilities),
                "status": "created",
                "agent_id": None,
                "swarm_id": sid(event.swarm_id),
                "assignment_strategy": None,
                "assignment_score": None,
                "assignment_note": None,
                "progress": 0,
                "retries": 0,
                "max_retries": event.max_retries,
                "timeout_seconds": event.timeout_seconds,
                "result": None,
                "error": None,
                "created_at": event.timestamp,
                "assigned_at": None,
                "started_at": None,
                "finished_at": None,
                "duration_seconds": None,
                "version": event.originator_version,
                "updated_at": event.timestamp,
            },
        )
        for dependency in event.dependencies:
            # a new task waits on nothing yet; Blocked names what it waits on
            changes.put(
                "task_dependencies",
                {"task_id": task_id, "dependency_id": sid(dependency), "resolved": True},
            )

    @handles(Task.Queued)
    def queued(self, changes: Changes, event: Task.Queued) -> None:
        self._touch(changes, event, status="queued")

    @handles(Task.Blocked)
    def blocked(self, changes: Changes, event: Task.Blocked) -> None:
        task_id = sid(event.originator_id)
        self._touch(changes, event, status="blocked")
        for dependency in event.waiting_on:
            changes.update("task_dependencies", (task_id, sid(dependency)), resolved=False)

    @handles(Task.DependencyResolved)
    def dependency_resolved(self, changes: Changes, event: Task.DependencyResolved) -> None:
        task_id = sid(event.originator_id)
        remaining = {sid(d) for d in event.remaining}
        row = self._touch(changes, event)
        if row is not None and not remaining:
            row["status"] = "queued"
        changes.update(
            "task_dependencies",
            (task_id, sid(event.dependency_id)),
            resolved=sid(event.dependency_id) not in remaining,
        )

    @handles(Task.Assigned)
    def assigned(self, changes: Changes, event: Task.Assigned) -> None:
        self._touch(
            changes,
            event,
            status="assigned",
            agent_id=sid(event.agent_id),
            assignment_strategy=event.strategy,
            assignment_score=event.score,
            assignment_note=event.note,
            assigned_at=event.timestamp,
        )

    @handles(Task.Started)
    def started(self, changes: Changes, event: Task.Started) -> None:
        self._touch(changes, event, status="running", started_at=event.timestamp)

    @handles(Task.ProgressReported)
    def progress_reported(self, changes: Changes, event: Task.ProgressReported) -> None:
        self._touch(changes, event, progress=event.percent)

    @handles(Task.DependentAdded)
    def dependent_added(self, changes: Changes, event: Task.DependentAdded) -> None:
        self._touch(changes, event)

    @handles(Task.Completed)
    def completed(self, changes: Changes, event: Task.Completed) -> None:
        self._touch(
            changes,
            event,
            status="completed",
            result=event.result,
            progress=100,
            duration_seconds=event.duration_seconds,
            finished_at=event.timestamp,
        )

    @handles(Task.Failed)
    def failed(self, changes: Changes, event: Task.Failed) -> None:
        self._touch(changes, event, status="failed", error=event.error, finished_at=event.timestamp)

    @handles(Task.Retried)
    def retried(self, changes: Changes, event: Task.Retried) -> None:
        self._touch(
            changes, event, status="queued", retries=event.attempt, finished_at=None, **RELEASED
        )

    @handles(Task.Cancelled)
    def cancelled(self, changes: Changes, event: Task.Cancelled) -> None:
        self._touch(changes, event, status="cancelled", finished_at=event.timestamp)

    @handles(Task.TimedOut)
    def timed_out(self, changes: Changes, event: Task.TimedOut) -> None:
        self._touch(
            changes,
            event,
            status="timed_out",
            duration_seconds=event.elapsed_seconds,
            finished_at=event.timestamp,
        )

    @handles(Task.Requeued)
    def requeued(self, changes: Changes, event: Task.Requeued) -> None:
        self._touch(changes, event, status="queued", **RELEASED)
