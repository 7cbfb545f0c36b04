"""Steps of features/task_lifecycle.feature."""

from __future__ import annotations

from uuid import uuid4

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from application.commands import (
    AssignTask,
    CancelTask,
    CompleteTask,
    CreateTask,
    FailTask,
    RetryTask,
    StartTask,
    TimeOutTask,
)
from tests.bdd.conftest import World, make_task, quoted

scenarios("task_lifecycle.feature")

TASK = r'"(?P<task>[^"]+)"'


@when(parsers.re(r'"(?P<agent>[^"]+)" completes ' + TASK))
def agent_completes(world: World, agent: str, task: str) -> None:
    world.do(AssignTask, task_id=world.id(task), agent_id=world.id(agent))
    world.do(StartTask, task_id=world.id(task))
    world.attempt(CompleteTask, task_id=world.id(task), result="done")


@when(parsers.re(r"I create a task " + TASK + " depending on a task that does not exist"))
def depends_on_missing(world: World, task: str) -> None:
    world.attempt(CreateTask, description=task, task_type="general", dependencies=[uuid4()])


@given(parsers.re(r"a task " + TASK + r" that is (?P<status>[a-z ]+)"))
def task_in_status(world: World, task: str, status: str) -> None:
    if status == "blocked":
        make_task(world, "prerequisite")
        make_task(world, task, deps='"prerequisite"')
        return
    make_task(world, task, timeout="60")
    world.ensure_agent("helper")
    tid = world.id(task)
    steps = {
        "queued": [],
        "assigned": [(AssignTask, {"agent_id": world.id("helper")})],
        "cancelled": [(CancelTask, {})],
    }
    held = [(AssignTask, {"agent_id": world.id("helper")}), (StartTask, {})]
    steps["running"] = held
    steps["completed"] = [*held, (CompleteTask, {})]
    steps["failed"] = [*held, (FailTask, {"error": "crashed"})]
    steps["timed out"] = held
    for kind, data in steps[status]:
        world.do(kind, task_id=tid, **data)
    if status == "timed out":
        world.clock.advance(seconds=61)
        world.do(TimeOutTask, task_id=tid)
    assert world.state_of(task) == status.replace(" ", "_")


@given(
    parsers.re(TASK + r' has failed and been retried (?P<times>\d+) times? by "(?P<agent>[^"]+)"')
)
def failed_and_retried(world: World, task: str, times: str, agent: str) -> None:
    for _ in range(int(times)):
        world.do(AssignTask, task_id=world.id(task), agent_id=world.id(agent))
        world.do(StartTask, task_id=world.id(task))
        world.do(FailTask, task_id=world.id(task), error="crashed")
        world.do(RetryTask, task_id=world.id(task))


@then(
    parsers.re(
        r"the choice for " + TASK + r' was recorded as "(?P<strategy>\w+)"'
        r"(?: with a score of (?P<score>[\d.]+))?"
    )
)
def choice_recorded(world: World, task: str, strategy: str, score: str | None) -> None:
    found = world.task(task)
    assert found.assignment_strategy == strategy
    if score is not None:
        assert found.assignment_score == pytest.approx(float(score))


@then(parsers.re(r"(?P<tasks>\".*\") went to three different agents"))
def different_agents(world: World, tasks: str) -> None:
    agents = {world.task(t).agent_id for t in quoted(tasks)}
    assert len(agents) == 3
    assert None not in agents


@then(parsers.re(TASK + r' went to the same agent as "(?P<other>[^"]+)"'))
def same_agent(world: World, task: str, other: str) -> None:
    assert world.task(task).agent_id == world.task(other).agent_id is not None


@then(parsers.re(TASK + r" is (?P<percent>\d+)% done"))
def percent_done(world: World, task: str, percent: str) -> None:
    assert world.task(task).progress == int(percent)


@then(parsers.re(TASK + r" has been retried (?P<times>\d+) times?"))
def retried(world: World, task: str, times: str) -> None:
    assert world.task(task).retries == int(times)
