from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.errors import InvalidTransition, RetriesExhausted, ValidationError
from domain.task import PRIORITY_RANK, Priority, Task, TaskStatus


def new_task(**kwargs: object) -> Task:
    kwargs.setdefault("description", "write the parser")
    kwargs.setdefault("task_type", "code")
    return Task.create(**kwargs)  # type: ignore[arg-type]


def running_task(**kwargs: object) -> Task:
    task = new_task(**kwargs)
    task.assign(uuid4(), "least_loaded", 0.75)
    task.start()
    return task


def event_names(task: Task) -> list[str]:
    return [type(e).__name__ for e in task.collect_events()]


def test_priorities_are_ranked_from_critical_to_background() -> None:
    assert [p.value for p in Priority] == list(PRIORITY_RANK)
    assert PRIORITY_RANK["critical"] == 0
    assert PRIORITY_RANK["background"] == 4


def test_a_task_without_open_dependencies_is_created_then_queued() -> None:
    task = new_task(priority="high", required_capabilities=[" Python", "sql ", "python"])
    assert event_names(task) == ["Created", "Queued"]
    assert task.status == TaskStatus.QUEUED
    assert task.priority == "high"
    assert task.required_capabilities == ["python", "sql"]
    assert task.retries == 0
    assert task.progress == 0
    assert task.created_at == task.created_on


def test_a_task_with_open_dependencies_is_created_then_blocked() -> None:
    done, pending = uuid4(), uuid4()
    task = new_task(dependencies=[done, pending], open_dependencies=[pending])
    assert event_names(task) == ["Created", "Blocked"]
    assert task.status == "blocked"
    assert task.waiting_on == [pending]
    assert task.dependencies == sorted([done, pending])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"task_type": ""}, "task_type"),
        ({"task_type": "t" * 65}, "task_type"),
        ({"priority": "urgent"}, "priority"),
        ({"required_capabilities": ["c"] * 51}, "required_capabilities"),
        ({"required_capabilities": ["c" * 65]}, "required_capabilities"),
        ({"required_capabilities": [""]}, "required_capabilities"),
        ({"dependencies": ["not-a-uuid"]}, "dependencies"),
        ({"dependencies": [UUID(int=1), UUID(int=1)]}, "dependencies"),
        ({"dependencies": [UUID(int=i) for i in range(101)]}, "dependencies"),
        ({"open_dependencies": [UUID(int=1)]}, "open_dependencies"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 21}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"timeout_seconds": 0.5}, "timeout_seconds"),
        ({"timeout_seconds": 86401}, "timeout_seconds"),
        ({"swarm_id": "swarm"}, "swarm_id"),
    ],
)
def test_creating_a_task_refuses_invalid_input(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        new_task(**kwargs)
    assert info.value.code == "VALIDATION"
    assert info.value.details["field"] == field


def test_an_unknown_priority_is_refused_with_the_allowed_ones_listed() -> None:
    with pytest.raises(ValidationError, match="critical, high, normal, low") as info:
        new_task(priority="urgent")
    assert info.value.details["allowed"] == list(PRIORITY_RANK)


def test_the_last_completed_dependency_queues_a_blocked_task() -> None:
    a, b = uuid4(), uuid4()
    task = new_task(dependencies=[a, b], open_dependencies=[a, b])
    task.collect_events()
    task.dependency_completed(a)
    assert task.status == "blocked"
    assert task.waiting_on == [b]
    task.dependency_completed(b)
    assert task.status == "queued"
    assert task.waiting_on == []
    events = task.collect_events()
    assert [e.remaining for e in events] == [[b], []]  # type: ignore[attr-defined]


def test_completing_a_dependency_it_does_not_wait_on_changes_nothing() -> None:
    task = new_task(dependencies=[uuid4()], open_dependencies=[])
    task.collect_events()
    task.dependency_completed(uuid4())
    assert task.collect_events() == []


def test_a_blocked_task_cannot_be_assigned_and_the_error_names_open_dependencies() -> None:
    dep = uuid4()
    task = new_task(dependencies=[dep], open_dependencies=[dep])
    with pytest.raises(InvalidTransition, match=str(dep)) as info:
        task.assign(uuid4(), "round_robin", 1.0)
    assert info.value.details["waiting_on"] == [str(dep)]


def test_assignment_records_agent_strategy_score_and_time() -> None:
    agent = uuid4()
    task = new_task()
    task.assign(agent, "capability_match", 0.9)
    assert task.status == "assigned"
    assert task.agent_id == agent
    assert task.assignment_strategy == "capability_match"
    assert task.assignment_score == 0.9
    assert task.assigned_at is not None


@pytest.mark.parametrize(
    ("agent", "strategy", "score"),
    [("agent", "s", 1.0), (UUID(int=1), "", 1.0), (UUID(int=1), "s", float("nan"))],
)
def test_assignment_refuses_invalid_arguments(agent: object, strategy: str, score: float) -> None:
    with pytest.raises(ValidationError):
        new_task().assign(agent, strategy, score)  # type: ignore[arg-type]


def test_a_task_runs_reports_progress_and_completes_with_a_duration() -> None:
    task = running_task()
    assert task.status == "running"
    assert task.started_at is not None
    task.report_progress(30)
    task.report_progress(30)
    task.report_progress(80)
    task.complete("done")
    assert task.status == "completed"
    assert task.result == "done"
    assert task.progress == 100
    assert task.duration_seconds is not None
    assert task.duration_seconds >= 0
    assert task.finished_at is not None
    assert task.is_final


@pytest.mark.parametrize("percent", [-1, 101, 50.5, True])
def test_progress_must_be_an_integer_percent(percent: object) -> None:
    with pytest.raises(ValidationError):
        running_task().report_progress(percent)  # type: ignore[arg-type]


def test_progress_never_goes_down() -> None:
    task = running_task()
    task.report_progress(60)
    with pytest.raises(ValidationError, match="cannot go down") as info:
        task.report_progress(59)
    assert info.value.details["current"] == 60


def test_a_failed_task_is_retried_until_its_retries_are_exhausted() -> None:
    task = running_task(max_retries=2)
    task.fail("boom")
    assert task.status == "failed"
    assert task.error == "boom"
    assert not task.is_final
    task.retry()
    assert task.status == "queued"
    assert task.retries == 1
    assert task.agent_id is None
    task.assign(uuid4(), "round_robin", 0.0)
    task.fail("again")
    task.retry()
    assert task.retries == 2
    task.assign(uuid4(), "round_robin", 0.0)
    task.start()
    task.fail("third")
    assert task.is_final
    with pytest.raises(RetriesExhausted) as info:
        task.retry()
    assert info.value.code == "RETRIES_EXHAUSTED"
    retried = [e for e in task.collect_events() if type(e).__name__ == "Retried"]
    assert [e.attempt for e in retried] == [1, 2]  # type: ignore[attr-defined]


def test_a_task_with_no_retries_is_final_as_soon_as_it_fails() -> None:
    task = running_task(max_retries=0)
    task.fail("boom")
    assert task.is_final
    with pytest.raises(RetriesExhausted):
        task.retry()


def test_failing_needs_an_error_message() -> None:
    with pytest.raises(ValidationError):
        running_task().fail("")


@pytest.mark.parametrize("status", ["queued", "blocked", "assigned", "running"])
def test_an_unfinished_task_can_be_cancelled(status: str) -> None:
    dep = uuid4()
    task = new_task(dependencies=[dep], open_dependencies=[dep] if status == "blocked" else [])
    if status in ("assigned", "running"):
        task.assign(uuid4(), "s", 0.0)
    if status == "running":
        task.start()
    assert task.status == status
    task.cancel("no longer needed")
    assert task.status == "cancelled"
    assert task.is_final


def test_a_cancelled_blocked_task_ignores_its_dependencies_completing() -> None:
    dep = uuid4()
    task = new_task(dependencies=[dep], open_dependencies=[dep])
    task.cancel()
    task.dependency_completed(dep)
    assert task.status == "cancelled"


def test_a_task_times_out_only_once_its_timeout_has_passed() -> None:
    task = running_task(timeout_seconds=60)
    assert task.started_at is not None
    with pytest.raises(InvalidTransition, match="not yet due") as info:
        task.time_out(task.started_at + timedelta(seconds=59))
    assert info.value.details["seconds_left"] == pytest.approx(1.0)
    task.time_out(task.started_at + timedelta(seconds=61))
    assert task.status == "timed_out"
    assert task.duration_seconds == pytest.approx(61.0)
    assert task.is_final


def test_an_assigned_task_times_out_from_its_assignment_time() -> None:
    task = new_task(timeout_seconds=10)
    task.assign(uuid4(), "s", 0.0)
    assert task.assigned_at is not None
    task.time_out(task.assigned_at + timedelta(seconds=10))
    assert task.status == "timed_out"


@pytest.mark.parametrize("status", ["assigned", "running"])
def test_a_held_task_is_requeued_when_its_agent_goes_away(status: str) -> None:
    agent = uuid4()
    task = new_task()
    task.assign(agent, "s", 0.0)
    if status == "running":
        task.start()
        task.report_progress(50)
    task.collect_events()
    task.requeue("agent terminated")
    assert task.status == "queued"
    assert task.agent_id is None
    assert task.progress == 0
    (requeued,) = task.collect_events()
    assert requeued.agent_id == agent  # type: ignore[attr-defined]
    assert requeued.reason == "agent terminated"  # type: ignore[attr-defined]


def test_completed_is_final_and_refuses_every_status_change() -> None:
    task = running_task()
    task.complete()
    with pytest.raises(InvalidTransition, match="completed") as info:
        task.cancel()
    assert info.value.code == "INVALID_TRANSITION"
    assert info.value.details["current"] == "completed"
    assert info.value.details["next"] == []
    for refused in (
        lambda: task.assign(uuid4(), "s", 0.0),
        task.start,
        lambda: task.report_progress(100),
        task.complete,
        lambda: task.fail("x"),
        task.retry,
        lambda: task.time_out(task.created_on),
        lambda: task.requeue("x"),
    ):
        with pytest.raises(InvalidTransition):
            refused()


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        (lambda t: t.start(), ["assigned"]),
        (lambda t: t.report_progress(1), ["running"]),
        (lambda t: t.complete(), ["running"]),
        (lambda t: t.fail("x"), ["assigned", "running"]),
        (lambda t: t.retry(), ["failed"]),
        (lambda t: t.time_out(t.created_on), ["assigned", "running"]),
        (lambda t: t.requeue("x"), ["assigned", "running"]),
    ],
)
def test_a_queued_task_refuses_changes_naming_the_allowed_statuses(
    action: object, allowed: list[str]
) -> None:
    task = new_task()
    with pytest.raises(InvalidTransition, match="queued") as info:
        action(task)  # type: ignore[operator]
    assert info.value.details["current"] == "queued"
    assert info.value.details["allowed"] == allowed
    assert info.value.details["next"] == ["assigned", "cancelled"]


def test_assigning_an_assigned_task_is_refused() -> None:
    task = new_task()
    task.assign(uuid4(), "s", 0.0)
    with pytest.raises(InvalidTransition, match="only from queued"):
        task.assign(uuid4(), "s", 0.0)


def test_a_task_round_trips_through_the_event_store() -> None:
    dep = uuid4()
    task = new_task(
        dependencies=[dep],
        open_dependencies=[dep],
        required_capabilities=["Go"],
        swarm_id=uuid4(),
    )
    task.dependency_completed(dep)
    task.assign(uuid4(), "neural", 0.5)
    task.start()
    task.report_progress(10)
    task.fail("crash")
    task.retry()
    task.assign(uuid4(), "neural", 0.6)
    task.start()
    task.complete("ok")
    app = Application()
    app.save(task)
    copy = app.repository.get(task.id)
    assert copy.__dict__ == task.__dict__
    assert type(copy.status) is str
