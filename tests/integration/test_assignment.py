"""Assignment strategies through AssignTask: who gets the task, and the recorded score."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.bootstrap import Swarmlog
from application.commands import AssignTask, PauseAgent
from domain.errors import CapacityExceeded, ValidationError
from domain.task import Task
from tests.integration.helpers import create_task, events, init_swarm, run_task, spawn


def assign(app: Swarmlog, strategy: str, swarm: UUID, **task_fields: object) -> Task.Assigned:
    task = create_task(app, **task_fields)
    result = app.handle(AssignTask(task_id=task, strategy=strategy, swarm_id=swarm))
    (assigned,) = events(app, result.position, result.position)
    assert isinstance(assigned, Task.Assigned)
    assert assigned.strategy == strategy
    return assigned


def load(app: Swarmlog, agent: UUID, tasks: int) -> None:
    for _ in range(tasks):
        run_task(app, create_task(app), agent)


def test_capability_chooses_the_best_match_of_capability_and_spare_capacity(
    swarmlog: Swarmlog,
) -> None:
    both = spawn(swarmlog, capabilities=["python", "sql"], max_load=2)
    python = spawn(swarmlog, capabilities=["python"], max_load=2)
    neither = spawn(swarmlog, capabilities=["go"], max_load=2)
    swarm = init_swarm(swarmlog, [both, python, neither])
    needs = {"required_capabilities": ["python", "sql"]}

    first = assign(swarmlog, "capability", swarm, **needs)
    assert (first.agent_id, first.score) == (both, pytest.approx(1.0))  # 0.4 * 1 + 0.6 * 1

    # now "both" is half loaded: 0.4 * 0.5 + 0.6 * 1 = 0.8 still beats 0.4 + 0.6 * 0.5 = 0.7
    second = assign(swarmlog, "capability", swarm, **needs)
    assert (second.agent_id, second.score) == (both, pytest.approx(0.8))

    # full: the half match takes it
    third = assign(swarmlog, "capability", swarm, **needs)
    assert (third.agent_id, third.score) == (python, pytest.approx(0.7))


def test_least_loaded_chooses_the_lowest_share_of_its_capacity(swarmlog: Swarmlog) -> None:
    half = spawn(swarmlog, max_load=2)
    quarter = spawn(swarmlog, max_load=4)
    two_thirds = spawn(swarmlog, max_load=3)
    load(swarmlog, half, 1)
    load(swarmlog, quarter, 1)
    load(swarmlog, two_thirds, 2)
    swarm = init_swarm(swarmlog, [half, quarter, two_thirds])

    chosen = assign(swarmlog, "least_loaded", swarm, required_capabilities=["go"])
    assert (chosen.agent_id, chosen.score) == (quarter, pytest.approx(0.75))  # spare capacity


def test_round_robin_takes_turns_in_a_stable_order(swarmlog: Swarmlog) -> None:
    agents = [spawn(swarmlog, max_load=5) for _ in range(3)]
    swarm = init_swarm(swarmlog, agents)
    order = sorted(agents, key=str)

    chosen = [assign(swarmlog, "round_robin", swarm) for _ in range(4)]
    assert [c.agent_id for c in chosen] == [*order, order[0]]
    assert chosen[0].score == pytest.approx(1.0)  # the capability score of its choice
    assert chosen[3].score == pytest.approx(0.4 * 4 / 5 + 0.6)


def test_paused_and_full_agents_are_not_eligible(swarmlog: Swarmlog) -> None:
    paused = spawn(swarmlog, capabilities=["python", "sql"])
    full = spawn(swarmlog, capabilities=["python", "sql"], max_load=1)
    weak = spawn(swarmlog, capabilities=["go"])
    swarmlog.handle(PauseAgent(agent_id=paused))
    load(swarmlog, full, 1)
    swarm = init_swarm(swarmlog, [paused, full, weak])
    for strategy in ("capability", "least_loaded", "round_robin"):
        assert assign(swarmlog, strategy, swarm).agent_id == weak


@pytest.mark.parametrize("strategy", ["capability", "least_loaded", "round_robin"])
def test_no_eligible_agent_is_capacity_exceeded(swarmlog: Swarmlog, strategy: str) -> None:
    busy = spawn(swarmlog, max_load=1)
    load(swarmlog, busy, 1)
    paused = spawn(swarmlog)
    swarmlog.handle(PauseAgent(agent_id=paused))
    swarm = init_swarm(swarmlog, [busy, paused])
    task = create_task(swarmlog)
    head = swarmlog.store.head()
    with pytest.raises(CapacityExceeded) as refused:
        swarmlog.handle(AssignTask(task_id=task, strategy=strategy, swarm_id=swarm))
    assert refused.value.code == "CAPACITY_EXCEEDED"
    assert swarmlog.store.head() == head


def test_an_empty_swarm_is_capacity_exceeded(swarmlog: Swarmlog) -> None:
    with pytest.raises(CapacityExceeded):
        swarmlog.handle(AssignTask(task_id=create_task(swarmlog), swarm_id=init_swarm(swarmlog)))


def test_an_unknown_strategy_is_validation(swarmlog: Swarmlog) -> None:
    swarm = init_swarm(swarmlog, [spawn(swarmlog)])
    with pytest.raises(ValidationError) as refused:
        swarmlog.handle(
            AssignTask(task_id=create_task(swarmlog), strategy="random", swarm_id=swarm)
        )
    assert (refused.value.code, refused.value.details["field"]) == ("VALIDATION", "strategy")


def test_a_strategy_needs_a_swarm_to_choose_from(swarmlog: Swarmlog) -> None:
    with pytest.raises(ValidationError) as refused:
        swarmlog.handle(AssignTask(task_id=create_task(swarmlog)))
    assert refused.value.details["field"] == "swarm_id"


def test_the_tasks_own_swarm_is_the_default_pool(swarmlog: Swarmlog) -> None:
    member = spawn(swarmlog)
    swarm = init_swarm(swarmlog, [member])
    task = create_task(swarmlog, swarm_id=swarm)
    swarmlog.handle(AssignTask(task_id=task))
    assert swarmlog.store.load(Task, task).agent_id == member


def test_an_explicit_agent_is_a_manual_assignment_with_its_capability_score(
    swarmlog: Swarmlog,
) -> None:
    agent = spawn(swarmlog, capabilities=["python"], max_load=2)
    task = create_task(swarmlog, required_capabilities=["python", "sql"])
    swarmlog.handle(AssignTask(task_id=task, agent_id=agent))
    (assigned,) = events(swarmlog, kinds=[Task.Assigned])
    assert (assigned.strategy, assigned.score) == ("manual", pytest.approx(0.4 + 0.3))
