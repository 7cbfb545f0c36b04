from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.agent import (
    ACCEPTS_WORK,
    TRANSITIONS,
    Agent,
    AgentState,
    AgentType,
)
from domain.base import EventContext, event_context
from domain.errors import (
    CapacityExceeded,
    InvalidTransition,
    NotAllowed,
    ValidationError,
)


def ready_agent(max_load: int = 3) -> Agent:
    agent = Agent.spawn("worker", "coder", ["python"], max_load=max_load)
    agent.transition("initializing")
    agent.transition("ready")
    return agent


def test_spawn_normalizes_name_and_capabilities_and_starts_created() -> None:
    agent = Agent.spawn("  Ada  ", AgentType.CODER, [" Python", "python", "Rust"])
    assert agent.name == "Ada"
    assert agent.agent_type == "coder"
    assert agent.capabilities == ["python", "rust"]
    assert agent.max_load == 3
    assert agent.state == AgentState.CREATED
    assert agent.current_tasks == []
    assert agent.load == 0
    assert agent.spare_capacity == 1.0
    assert not agent.accepts_work


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, 5])
def test_spawn_refuses_a_bad_name(name: object) -> None:
    with pytest.raises(ValidationError) as err:
        Agent.spawn(name, "coder", ["python"])  # type: ignore[arg-type]
    assert err.value.details["field"] == "name"
    assert err.value.code == "VALIDATION"


def test_spawn_refuses_an_unknown_type_listing_the_allowed_ones() -> None:
    with pytest.raises(ValidationError) as err:
        Agent.spawn("a", "wizard", ["python"])
    assert err.value.details["field"] == "agent_type"
    assert "coordinator" in err.value.details["allowed"]
    assert "specialist" in err.value.message


@pytest.mark.parametrize(
    "caps",
    [[], [""], ["  "], ["x" * 65], "python", [f"c{i}" for i in range(51)], [3]],
)
def test_spawn_refuses_bad_capabilities(caps: object) -> None:
    with pytest.raises(ValidationError) as err:
        Agent.spawn("a", "coder", caps)  # type: ignore[arg-type]
    assert err.value.details["field"] == "capabilities"


@pytest.mark.parametrize("max_load", [0, 101, True, "3"])
def test_spawn_refuses_a_max_load_outside_one_to_a_hundred(max_load: object) -> None:
    with pytest.raises(ValidationError) as err:
        Agent.spawn("a", "coder", ["x"], max_load=max_load)  # type: ignore[arg-type]
    assert err.value.details["field"] == "max_load"


def test_every_state_has_a_row_in_the_table_and_terminated_is_final() -> None:
    assert set(TRANSITIONS) == set(AgentState)
    assert TRANSITIONS[AgentState.TERMINATED] == frozenset()
    assert AgentState.INITIALIZING in TRANSITIONS[AgentState.ERROR]
    assert {AgentState.READY, AgentState.WORKING, AgentState.WAITING} == ACCEPTS_WORK


def test_transition_follows_the_table_and_records_the_reason() -> None:
    agent = Agent.spawn("a", "coder", ["x"])
    agent.transition(AgentState.INITIALIZING, "boot")
    agent.transition("ready")
    assert agent.state == AgentState.READY
    events = agent.collect_events()
    assert events[1].from_state == "created"  # type: ignore[attr-defined]
    assert events[1].to_state == "initializing"  # type: ignore[attr-defined]
    assert events[1].reason == "boot"  # type: ignore[attr-defined]


def test_a_refused_transition_names_the_current_state_and_the_allowed_ones() -> None:
    agent = Agent.spawn("a", "coder", ["x"])
    with pytest.raises(InvalidTransition) as err:
        agent.transition("working")
    assert err.value.code == "INVALID_TRANSITION"
    assert err.value.details["current"] == "created"
    assert err.value.details["allowed"] == ["error", "initializing", "terminated"]
    assert "created" in err.value.message
    assert "initializing" in err.value.message
    assert agent.version == 1


def test_transition_to_an_unknown_state_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Agent.spawn("a", "coder", ["x"]).transition("sleeping")


def test_transition_to_terminated_must_go_through_terminate() -> None:
    with pytest.raises(NotAllowed):
        ready_agent().transition("terminated")


def test_error_recovers_through_initializing() -> None:
    agent = ready_agent()
    agent.transition("error", "crash")
    with pytest.raises(InvalidTransition):
        agent.transition("ready")
    agent.transition("initializing")
    agent.transition("ready")
    assert agent.state == "ready"


def test_pause_follows_the_table() -> None:
    agent = ready_agent()
    agent.pause("break")
    assert agent.state == "paused"
    with pytest.raises(InvalidTransition):
        Agent.spawn("a", "coder", ["x"]).pause()


def test_resume_goes_to_ready_without_tasks_and_to_working_with_tasks() -> None:
    idle = ready_agent()
    idle.pause()
    idle.resume()
    assert idle.state == "ready"
    busy = ready_agent()
    busy.take_task(uuid4())
    busy.pause()
    busy.resume()
    assert busy.state == "working"


def test_resume_is_refused_unless_paused() -> None:
    with pytest.raises(InvalidTransition) as err:
        ready_agent().resume()
    assert err.value.details["current"] == "ready"


def test_terminate_releases_held_tasks_from_any_state() -> None:
    agent = ready_agent()
    first, second = uuid4(), uuid4()
    agent.take_task(first)
    agent.take_task(second)
    agent.terminate("shutdown")
    assert agent.state == "terminated"
    assert agent.current_tasks == []
    last = agent.collect_events()[-1]
    assert isinstance(last, Agent.Terminated)
    assert last.released_task_ids == [first, second]
    assert last.from_state == "working"
    Agent.spawn("b", "coder", ["x"]).terminate()


def test_terminate_twice_is_refused() -> None:
    agent = ready_agent()
    agent.terminate()
    with pytest.raises(InvalidTransition):
        agent.terminate()
    with pytest.raises(InvalidTransition):
        agent.transition("initializing")


def test_taking_a_task_makes_the_agent_work() -> None:
    agent = ready_agent()
    task = uuid4()
    agent.take_task(task)
    assert agent.state == "working"
    assert agent.current_tasks == [task]
    assert agent.load == 1
    assert agent.spare_capacity == pytest.approx(2 / 3)


def test_taking_a_held_task_again_changes_nothing() -> None:
    agent = ready_agent()
    task = uuid4()
    agent.take_task(task)
    version = agent.version
    agent.take_task(task)
    assert agent.version == version


def test_a_paused_agent_takes_no_work() -> None:
    agent = ready_agent()
    agent.pause()
    with pytest.raises(InvalidTransition) as err:
        agent.take_task(uuid4())
    assert "paused" in err.value.message
    assert "ready, working or waiting" in err.value.message


def test_an_agent_at_max_load_takes_no_more_work() -> None:
    agent = ready_agent(max_load=1)
    agent.take_task(uuid4())
    with pytest.raises(CapacityExceeded) as err:
        agent.take_task(uuid4())
    assert err.value.code == "CAPACITY_EXCEEDED"
    assert err.value.details == {"load": 1, "max_load": 1}


def test_releasing_the_last_task_makes_a_working_agent_ready() -> None:
    agent = ready_agent()
    a, b = uuid4(), uuid4()
    agent.take_task(a)
    agent.take_task(b)
    agent.release_task(a, "completed")
    assert agent.state == "working"
    agent.release_task(b, "failed")
    assert agent.state == "ready"
    assert (agent.completed_count, agent.failed_count) == (1, 1)
    assert agent.success_rate == 0.5


@pytest.mark.parametrize(
    ("outcome", "completed", "failed"),
    [
        ("completed", 1, 0),
        ("failed", 0, 1),
        ("timed_out", 0, 1),
        ("cancelled", 0, 0),
        ("requeued", 0, 0),
    ],
)
def test_release_counts_outcomes(outcome: str, completed: int, failed: int) -> None:
    agent = ready_agent()
    task = uuid4()
    agent.take_task(task)
    agent.release_task(task, outcome)
    assert (agent.completed_count, agent.failed_count) == (completed, failed)


def test_releasing_a_task_not_held_changes_nothing() -> None:
    agent = ready_agent()
    agent.release_task(uuid4(), "completed")
    assert agent.version == 3


def test_releasing_with_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValidationError):
        ready_agent().release_task(uuid4(), "exploded")


def test_releasing_while_paused_keeps_the_agent_paused() -> None:
    agent = ready_agent()
    task = uuid4()
    agent.take_task(task)
    agent.pause()
    agent.release_task(task, "completed")
    assert agent.state == "paused"


def test_success_rate_is_zero_without_history() -> None:
    assert ready_agent().success_rate == 0.0


def test_expertise_without_votes_is_accuracy_prior_only() -> None:
    assert ready_agent().expertise(datetime.now(UTC)) == pytest.approx(0.3)


def test_score_vote_records_counts_and_the_event_time() -> None:
    agent = ready_agent()
    agent.score_vote(uuid4(), True)
    agent.score_vote(uuid4(), False)
    assert (agent.votes_cast, agent.votes_agreed) == (2, 1)
    assert agent.last_vote_at == agent.collect_events()[-1].timestamp


def test_expertise_weighs_accuracy_recency_and_volume() -> None:
    agent = ready_agent()
    for _ in range(20):
        agent.score_vote(uuid4(), True)
    assert agent.last_vote_at is not None
    assert agent.expertise(agent.last_vote_at) == pytest.approx(1.0)
    week_later = agent.last_vote_at + timedelta(days=7)
    assert agent.expertise(week_later) == pytest.approx(0.8 + 0.2 * 0.36787944)
    assert 0.0 <= agent.expertise(agent.last_vote_at - timedelta(days=1)) <= 1.0


def test_events_carry_the_command_context() -> None:
    token = event_context.set(EventContext("alice", "corr", "cause"))
    try:
        agent = Agent.spawn("a", "coder", ["x"])
    finally:
        event_context.reset(token)
    created = agent.collect_events()[0]
    assert (created.actor, created.correlation_id) == ("alice", "corr")  # type: ignore[attr-defined]


def test_an_agent_round_trips_through_its_stored_events() -> None:
    agent = ready_agent()
    task, other = uuid4(), uuid4()
    agent.take_task(task)
    agent.take_task(other)
    agent.release_task(task, "completed")
    agent.score_vote(uuid4(), True)
    agent.pause("lunch")
    app = Application()
    app.save(agent)
    copy = app.repository.get(agent.id)
    assert copy.__dict__ == agent.__dict__
    agent.terminate("done")
    app.save(agent)
    assert app.repository.get(agent.id).__dict__ == agent.__dict__
