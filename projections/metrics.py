"""Per-swarm task metrics by the minute: tasks created, completed and failed in each
minute, and the swarm's queue depth at the end of it (success rates are computed by
the queries).

Only Task.Created names a task's swarm, so ``task_swarms`` remembers it (and whether
the task is in the queue now); ``swarm_queue`` is each swarm's running queue depth.
A task enters the queue when queued (at creation, when its last dependency resolves,
on retry, on requeue) and leaves it when assigned or cancelled from it. A minute has
a row only if one of the swarm's tasks had an event in it. Failures count attempts
that failed or timed out (as the agents read model counts them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, DateTime, Integer

from domain.task import Task
from projections.changes import Changes
from projections.columns import id_column, sid
from projections.projection import Projection, handles


def _metric_columns() -> list[Column[Any]]:
    return [
        id_column("swarm_id", primary_key=True),
        Column("minute", DateTime(timezone=False), primary_key=True),
        Column("tasks_created", Integer, nullable=False),
        Column("tasks_completed", Integer, nullable=False),
        Column("tasks_failed", Integer, nullable=False),
        Column("queue_depth_end", Integer, nullable=False),
    ]


def _task_swarm_columns() -> list[Column[Any]]:
    return [
        id_column("task_id", primary_key=True),
        id_column("swarm_id", nullable=False),
        Column("queued", Boolean, nullable=False),
    ]


def _queue_columns() -> list[Column[Any]]:
    return [
        id_column("swarm_id", primary_key=True),
        Column("depth", Integer, nullable=False),
    ]


def minute_of(moment: datetime) -> datetime:
    """The minute of a moment, in UTC and without a time zone.

    Naive on purpose: the minute is part of the primary key, and Changes matches the
    rows it prefetches by the key values read back, which SQLite returns naive.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(second=0, microsecond=0)


COUNTED: dict[type, str] = {
    Task.Created: "tasks_created",
    Task.Completed: "tasks_completed",
    Task.Failed: "tasks_failed",
    Task.TimedOut: "tasks_failed",
}


class SwarmMetricsProjection(Projection):
    name: ClassVar[str] = "swarm_metrics"
    version: ClassVar[int] = 1
    columns = {
        "swarm_metrics": _metric_columns,
        "task_swarms": _task_swarm_columns,
        "swarm_queue": _queue_columns,
    }

    def prefetch(self, changes: Changes, events: list[Any]) -> None:
        changes.prefetch("task_swarms", sorted({sid(e.originator_id) for e in events}))
        swarms: dict[str | None, str | None] = {}
        minutes: set[tuple[str, datetime]] = set()
        for e in events:
            task_id = sid(e.originator_id)
            if isinstance(e, Task.Created):
                swarms[task_id] = sid(e.swarm_id)
            elif task_id not in swarms:
                task = changes.get("task_swarms", task_id)  # prefetched: from memory
                swarms[task_id] = task["swarm_id"] if task is not None else None
            swarm_id = swarms[task_id]
            if swarm_id is not None:
                minutes.add((swarm_id, minute_of(e.timestamp)))
        if minutes:
            changes.prefetch("swarm_queue", sorted({s for s, _ in minutes}))
            changes.prefetch("swarm_metrics", sorted(minutes))

    def _record(self, changes: Changes, event: Any, *, queued: bool | None = None) -> None:
        """Count the event in its minute and move the queue when the task enters
        (``queued=True``) or leaves (``queued=False``) it."""
        task = changes.get("task_swarms", sid(event.originator_id))
        if task is None:
            return  # a task of no swarm
        swarm_id = task["swarm_id"]
        queue = changes.get("swarm_queue", swarm_id) or changes.put(
            "swarm_queue", {"swarm_id": swarm_id, "depth": 0}
        )
        if queued is not None and queued != task["queued"]:
            changes.update("task_swarms", task["task_id"], queued=queued)
            changes.update("swarm_queue", swarm_id, depth=queue["depth"] + (1 if queued else -1))
        minute = (swarm_id, minute_of(event.timestamp))
        row = changes.get("swarm_metrics", minute) or {
            "swarm_id": swarm_id,
            "minute": minute[1],
            "tasks_created": 0,
            "tasks_completed": 0,
            "tasks_failed": 0,
            "queue_depth_end": 0,
        }
        counter = COUNTED.get(type(event))
        if counter is not None:
            row[counter] += 1
        row["queue_depth_end"] = queue["depth"]
        changes.put("swarm_metrics", row)

    @handles(Task.Created)
    def created(self, changes: Changes, event: Task.Created) -> None:
        if event.swarm_id is not None:
            changes.put(
                "task_swarms",
                {
                    "task_id": sid(event.originator_id),
                    "swarm_id": sid(event.swarm_id),
                    "queued": False,
                },
            )
        self._record(changes, event)

    @handles(Task.Queued, Task.Retried, Task.Requeued)
    def queued(self, changes: Changes, event: Any) -> None:
        self._record(changes, event, queued=True)

    @handles(Task.DependencyResolved)
    def dependency_resolved(self, changes: Changes, event: Task.DependencyResolved) -> None:
        self._record(changes, event, queued=True if not event.remaining else None)

    @handles(Task.Assigned, Task.Cancelled)
    def left_queue(self, changes: Changes, event: Any) -> None:
        self._record(changes, event, queued=False)

    @handles(Task.Completed, Task.Failed, Task.TimedOut)
    def finished(self, changes: Changes, event: Any) -> None:
        self._record(changes, event)
