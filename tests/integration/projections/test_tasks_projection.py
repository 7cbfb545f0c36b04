"""The tasks read model agrees with the Task aggregates, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from domain.task import Task
from projections.queries import TaskView, get_task, list_tasks, task_dependencies, task_dependents
from projections.tasks import TasksProjection
from tests.integration.projections.conftest import Workload, caught_up


def expected_task(task: Task) -> TaskView:
    return TaskView(
        task_id=str(task.id),
        description=task.description,
        task_type=task.task_type,
        priority=task.priority,
        required_capabilities=tuple(task.required_capabilities),
        status=task.status,
        agent_id=None if task.agent_id is None else str(task.agent_id),
        swarm_id=None if task.swarm_id is None else str(task.swarm_id),
        assignment_strategy=task.assignment_strategy,
        assignment_score=task.assignment_score,
        assignment_note=task.assignment_note,
        progress=task.progress,
        retries=task.retries,
        max_retries=task.max_retries,
        timeout_seconds=task.timeout_seconds,
        result=task.result,
        error=task.error,
        created_at=task.created_at,
        assigned_at=task.assigned_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        duration_seconds=task.duration_seconds,
        version=task.version,
        updated_at=task.modified_on,
    )


@pytest.mark.parametrize("workload", ["scripted", "simulated"])
def test_every_task_and_its_dependencies_agree_with_the_aggregate(
    workload: str,
    request: pytest.FixtureRequest,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    source: Workload = request.getfixturevalue(workload)
    engine = engines(read_model_url)
    caught_up(source.app, engine, [TasksProjection()])
    task_ids = source.of(Task)
    assert task_ids
    with engine.connect() as conn:
        assert len(list_tasks(conn, limit=200)) == len(task_ids)
        for task_id in task_ids:
            task = source.app.store.load(Task, task_id)
            assert get_task(conn, task_id) == expected_task(task)
            deps = [(d.dependency_id, d.resolved) for d in task_dependencies(conn, task_id)]
            assert deps == sorted((str(d), d not in task.waiting_on) for d in task.dependencies)
            dependents = {d.task_id for d in task_dependents(conn, task_id)}
            assert {str(d) for d in task.dependents} <= dependents


def test_the_scripted_workload_leaves_tasks_in_every_interesting_state(
    scripted: Workload, read_model_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(read_model_url)
    caught_up(scripted.app, engine, [TasksProjection()], batch_size=3)
    with engine.connect() as conn:
        statuses = {t.status for t in list_tasks(conn)}
        retried = [t for t in list_tasks(conn) if t.retries]
    assert {"completed", "failed", "cancelled", "timed_out", "queued", "assigned"} <= statuses
    assert retried
