"""Queries of the tasks read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select

from projections.columns import sid
from projections.queries._common import Bind, aware, fetch_all, fetch_one, page_size, utc
from projections.tasks import TasksProjection

MAX_PAGE = 200
_views = TasksProjection().views()
_tasks = _views["tasks"]
_dependencies = _views["task_dependencies"]


@dataclass(frozen=True)
class TaskView:
    task_id: str
    description: str
    task_type: str
    priority: str
    required_capabilities: tuple[str, ...]
    status: str
    agent_id: str | None
    swarm_id: str | None
    assignment_strategy: str | None
    assignment_score: float | None
    assignment_note: str | None
    progress: int
    retries: int
    max_retries: int
    timeout_seconds: float
    result: str | None
    error: str | None
    created_at: datetime
    assigned_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    version: int
    updated_at: datetime | None


@dataclass(frozen=True)
class TaskDependency:
    task_id: str
    dependency_id: str
    resolved: bool
    """False while the task is blocked waiting on this dependency."""


def _task(row: RowMapping) -> TaskView:
    return TaskView(
        task_id=row["task_id"],
        description=row["description"],
        task_type=row["task_type"],
        priority=row["priority"],
        required_capabilities=tuple(row["required_capabilities"]),
        status=row["status"],
        agent_id=row["agent_id"],
        swarm_id=row["swarm_id"],
        assignment_strategy=row["assignment_strategy"],
        assignment_score=row["assignment_score"],
        assignment_note=row["assignment_note"],
        progress=row["progress"],
        retries=row["retries"],
        max_retries=row["max_retries"],
        timeout_seconds=row["timeout_seconds"],
        result=row["result"],
        error=row["error"],
        created_at=utc(row["created_at"]),
        assigned_at=aware(row["assigned_at"]),
        started_at=aware(row["started_at"]),
        finished_at=aware(row["finished_at"]),
        duration_seconds=row["duration_seconds"],
        version=row["version"],
        updated_at=aware(row["updated_at"]),
    )


def get_task(bind: Bind, task_id: Any) -> TaskView | None:
    row = fetch_one(bind, select(_tasks).where(_tasks.c.task_id == sid(task_id)))
    return _task(row) if row is not None else None


def list_tasks(
    bind: Bind,
    *,
    status: str | None = None,
    priority: str | None = None,
    agent_id: Any = None,
    swarm_id: Any = None,
    after: Any = None,
    limit: int = 50,
) -> list[TaskView]:
    """Tasks in id order, from the one after ``after`` (the last id of the previous
    page); at most ``limit`` of them, and never more than 200."""
    query = select(_tasks).order_by(_tasks.c.task_id).limit(page_size(limit, MAX_PAGE))
    if status is not None:
        query = query.where(_tasks.c.status == status)
    if priority is not None:
        query = query.where(_tasks.c.priority == priority)
    if agent_id is not None:
        query = query.where(_tasks.c.agent_id == sid(agent_id))
    if swarm_id is not None:
        query = query.where(_tasks.c.swarm_id == sid(swarm_id))
    if after is not None:
        query = query.where(_tasks.c.task_id > sid(after))
    return [_task(row) for row in fetch_all(bind, query)]


def _dependency(row: RowMapping) -> TaskDependency:
    return TaskDependency(row["task_id"], row["dependency_id"], bool(row["resolved"]))


def task_dependencies(bind: Bind, task_id: Any) -> list[TaskDependency]:
    """The tasks this one depends on, in id order."""
    query = (
        select(_dependencies)
        .where(_dependencies.c.task_id == sid(task_id))
        .order_by(_dependencies.c.dependency_id)
    )
    return [_dependency(row) for row in fetch_all(bind, query)]


def task_dependents(bind: Bind, task_id: Any) -> list[TaskDependency]:
    """The tasks that depend on this one, in id order."""
    query = (
        select(_dependencies)
        .where(_dependencies.c.dependency_id == sid(task_id))
        .order_by(_dependencies.c.task_id)
    )
    return [_dependency(row) for row in fetch_all(bind, query)]
