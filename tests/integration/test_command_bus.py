"""The command bus on a real store: context stamping, idempotency, refusals, positions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from application.bootstrap import Swarmlog
from application.commands import (
    AssignTask,
    CastVote,
    Command,
    CreateProposal,
    CreateTask,
    FailTask,
    InitSwarm,
    JoinSwarm,
    PauseAgent,
    ReportTaskProgress,
    ResumeAgent,
    RetryTask,
    ScaleSwarm,
    SpawnAgent,
    StartTask,
    TransitionAgent,
    parse_command,
)
from domain.agent import Agent
from domain.errors import DomainError, IdempotencyKeyReused, ValidationError
from tests.conftest import Clock
from tests.integration.conftest import MakeApp
from tests.integration.helpers import (
    create_task,
    events,
    init_swarm,
    names,
    propose,
    run_task,
    spawn,
    vote,
)

ADA = {"name": "ada", "agent_type": "coder", "capabilities": ["python"]}


# ---------------------------------------------------------------- context stamping


def test_every_event_of_a_command_carries_the_given_actor_correlation_and_causation(
    swarmlog: Swarmlog,
) -> None:
    dependency = create_task(swarmlog)
    before = swarmlog.store.head()
    result = swarmlog.handle(
        CreateTask(
            description="after",
            task_type="code",
            dependencies=[dependency],
            idempotency_key="create-after",
        ),
        actor="user:ada",
        correlation_id="corr-1",
        causation_id="cause-1",
    )
    written = events(swarmlog, before + 1, result.position)
    assert sorted(names(written)) == [
        "IdempotencyRecord.Recorded",
        "Task.Blocked",
        "Task.Created",
        "Task.DependentAdded",
    ]
    # the idempotency record is written, but not reported
    assert list(result.events) == [n for n in names(written) if not n.startswith("Idem")]
    for event in written:
        assert (event.actor, event.correlation_id, event.causation_id) == (
            "user:ada",
            "corr-1",
            "cause-1",
        )


def test_without_context_correlation_and_causation_are_one_generated_command_id(
    swarmlog: Swarmlog,
) -> None:
    first = swarmlog.handle(SpawnAgent(**ADA))
    second = swarmlog.handle(PauseAgent(agent_id=first.aggregate_id))
    ids = []
    for result, count in ((first, 3), (second, 1)):
        written = events(swarmlog, result.position - count + 1, result.position)
        assert len({(e.actor, e.correlation_id, e.causation_id) for e in written}) == 1
        event = written[0]
        assert event.actor == "system"
        assert event.correlation_id == event.causation_id
        uuid.UUID(event.correlation_id)  # a generated id
        ids.append(event.correlation_id)
    assert ids[0] != ids[1]


# ---------------------------------------------------------------- idempotency


def test_a_repeated_command_returns_the_first_result_and_writes_nothing(
    make_app: MakeApp,
) -> None:
    app = make_app()
    command = SpawnAgent(**ADA, idempotency_key="spawn-ada")
    first = app.handle(command)
    head = app.store.head()

    again = app.handle(SpawnAgent(**ADA, idempotency_key="spawn-ada"))
    assert again.repeated
    assert (again.aggregate_id, again.version) == (first.aggregate_id, first.version)
    assert again.position == head
    assert app.store.head() == head

    restarted = make_app(app.settings)  # the record is durable, not in memory
    assert restarted.handle(command).aggregate_id == first.aggregate_id
    assert restarted.store.head() == head


@pytest.mark.parametrize(
    "other",
    [
        SpawnAgent(**{**ADA, "name": "bob"}, idempotency_key="spawn-ada"),
        InitSwarm(name="ada", topology="mesh", idempotency_key="spawn-ada"),
    ],
    ids=["same-type", "other-type"],
)
def test_the_same_key_with_a_different_command_is_refused_and_writes_nothing(
    swarmlog: Swarmlog, other: Command
) -> None:
    swarmlog.handle(SpawnAgent(**ADA, idempotency_key="spawn-ada"))
    head = swarmlog.store.head()
    with pytest.raises(IdempotencyKeyReused) as refused:
        swarmlog.handle(other)
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert swarmlog.store.head() == head


def test_a_refused_command_does_not_use_up_its_idempotency_key(swarmlog: Swarmlog) -> None:
    agent = spawn(swarmlog)
    with pytest.raises(DomainError):
        swarmlog.handle(ResumeAgent(agent_id=agent, idempotency_key="k"))
    swarmlog.handle(PauseAgent(agent_id=agent))
    result = swarmlog.handle(ResumeAgent(agent_id=agent, idempotency_key="k"))
    assert not result.repeated
    assert result.events == ("Agent.Transitioned",)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({k: v for k, v in ADA.items() if k != "name"}, "name"),
        ({**ADA, "max_load": "lots"}, "max_load"),
        ({**ADA, "max_load": 0}, "max_load"),
        ({**ADA, "capabilities": "python"}, "capabilities"),
        ({**ADA, "capabilities": []}, "capabilities"),
        ({**ADA, "capabilities": [f"c{i}" for i in range(51)]}, "capabilities"),
        ({**ADA, "capabilities": ["c" * 65]}, "capabilities.0"),
        ({**ADA, "name": "n" * 201}, "name"),
        ({**ADA, "name": "   "}, "name"),
        ({**ADA, "colour": "blue"}, "colour"),
        ({**ADA, "idempotency_key": ""}, "idempotency_key"),
    ],
    ids=[
        "missing",
        "wrong-type",
        "too-small",
        "not-a-list",
        "empty-list",
        "too-many",
        "item-too-long",
        "too-long",
        "blank",
        "unknown-field",
        "empty-key",
    ],
)
def test_bad_input_raises_validation_naming_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_command(SpawnAgent, data)
    assert refused.value.code == "VALIDATION"
    assert refused.value.details["field"] == field
    assert str(refused.value).startswith(f"VALIDATION: {field}: ")


def test_good_input_parses_into_the_command() -> None:
    command = parse_command(SpawnAgent, {**ADA, "name": "  ada  ", "max_load": "2"})
    assert command == SpawnAgent(
        name="ada", agent_type="coder", capabilities=["python"], max_load=2
    )


# ---------------------------------------------------------------- refused operations

Scenario = Callable[[Swarmlog, Clock], Command]


def resume_a_ready_agent(app: Swarmlog, clock: Clock) -> Command:
    return ResumeAgent(agent_id=spawn(app))


def transition_to_terminated(app: Swarmlog, clock: Clock) -> Command:
    return TransitionAgent(agent_id=spawn(app), to_state="terminated")


def spawn_an_unknown_agent_type(app: Swarmlog, clock: Clock) -> Command:
    return SpawnAgent(name="x", agent_type="wizard", capabilities=["magic"])


def pause_an_unknown_agent(app: Swarmlog, clock: Clock) -> Command:
    return PauseAgent(agent_id=uuid.uuid4())


def start_an_unknown_task(app: Swarmlog, clock: Clock) -> Command:
    return StartTask(task_id=uuid.uuid4())


def depend_on_an_unknown_task(app: Swarmlog, clock: Clock) -> Command:
    return CreateTask(description="d", task_type="code", dependencies=[uuid.uuid4()])


def assign_to_a_task_id_as_agent(app: Swarmlog, clock: Clock) -> Command:
    task = create_task(app)
    return AssignTask(task_id=task, agent_id=create_task(app))


def vote_on_an_unknown_proposal(app: Swarmlog, clock: Clock) -> Command:
    return CastVote(proposal_id=uuid.uuid4(), voter_id=spawn(app), approve=True)


def assign_to_a_full_agent(app: Swarmlog, clock: Clock) -> Command:
    agent = spawn(app, max_load=1)
    run_task(app, create_task(app), agent)
    return AssignTask(task_id=create_task(app), agent_id=agent)


def assign_to_a_paused_agent(app: Swarmlog, clock: Clock) -> Command:
    agent = spawn(app)
    app.handle(PauseAgent(agent_id=agent))
    return AssignTask(task_id=create_task(app), agent_id=agent)


def join_a_full_swarm(app: Swarmlog, clock: Clock) -> Command:
    swarm = init_swarm(app, [spawn(app)], max_agents=1)
    return JoinSwarm(swarm_id=swarm, agent_id=spawn(app))


def scale_below_the_members(app: Swarmlog, clock: Clock) -> Command:
    swarm = init_swarm(app, [spawn(app), spawn(app)])
    return ScaleSwarm(swarm_id=swarm, max_agents=1)


def propose_as_a_non_member(app: Swarmlog, clock: Clock) -> Command:
    swarm = init_swarm(app, [spawn(app)])
    return CreateProposal(swarm_id=swarm, proposer_id=spawn(app), title="t", value=1)


def vote_as_a_non_participant(app: Swarmlog, clock: Clock) -> Command:
    member = spawn(app)
    proposal = propose(app, init_swarm(app, [member]), member)
    return CastVote(proposal_id=proposal, voter_id=spawn(app), approve=True)


def vote_twice(app: Swarmlog, clock: Clock) -> Command:
    members = [spawn(app) for _ in range(3)]
    proposal = propose(app, init_swarm(app, members), members[0])
    vote(app, proposal, members[0])
    return CastVote(proposal_id=proposal, voter_id=members[0], approve=False)


def vote_on_a_decided_proposal(app: Swarmlog, clock: Clock) -> Command:
    members = [spawn(app) for _ in range(3)]
    proposal = propose(app, init_swarm(app, members), members[0])
    vote(app, proposal, members[0])
    vote(app, proposal, members[1])
    return CastVote(proposal_id=proposal, voter_id=members[2], approve=True)


def vote_after_the_deadline(app: Swarmlog, clock: Clock) -> Command:
    members = [spawn(app) for _ in range(3)]
    proposal = propose(app, init_swarm(app, members), members[0], ttl_seconds=60)
    clock.advance(seconds=60)
    return CastVote(proposal_id=proposal, voter_id=members[0], approve=True)


def retry_with_no_retries_left(app: Swarmlog, clock: Clock) -> Command:
    task = create_task(app, max_retries=0)
    run_task(app, task, spawn(app))
    app.handle(FailTask(task_id=task, error="boom"))
    return RetryTask(task_id=task)


def assign_a_blocked_task(app: Swarmlog, clock: Clock) -> Command:
    blocked = create_task(app, dependencies=[create_task(app)])
    return AssignTask(task_id=blocked, agent_id=spawn(app))


def lower_the_progress(app: Swarmlog, clock: Clock) -> Command:
    task = create_task(app)
    run_task(app, task, spawn(app))
    app.handle(ReportTaskProgress(task_id=task, percent=50))
    return ReportTaskProgress(task_id=task, percent=40)


@pytest.mark.parametrize(
    ("scenario", "code"),
    [
        (resume_a_ready_agent, "INVALID_TRANSITION"),
        (transition_to_terminated, "NOT_ALLOWED"),
        (spawn_an_unknown_agent_type, "VALIDATION"),
        (pause_an_unknown_agent, "NOT_FOUND"),
        (start_an_unknown_task, "NOT_FOUND"),
        (depend_on_an_unknown_task, "NOT_FOUND"),
        (assign_to_a_task_id_as_agent, "NOT_FOUND"),
        (vote_on_an_unknown_proposal, "NOT_FOUND"),
        (assign_to_a_full_agent, "CAPACITY_EXCEEDED"),
        (assign_to_a_paused_agent, "INVALID_TRANSITION"),
        (join_a_full_swarm, "CAPACITY_EXCEEDED"),
        (scale_below_the_members, "CAPACITY_EXCEEDED"),
        (propose_as_a_non_member, "NOT_PARTICIPANT"),
        (vote_as_a_non_participant, "NOT_PARTICIPANT"),
        (vote_twice, "ALREADY_VOTED"),
        (vote_on_a_decided_proposal, "PROPOSAL_CLOSED"),
        (vote_after_the_deadline, "PROPOSAL_CLOSED"),
        (retry_with_no_retries_left, "RETRIES_EXHAUSTED"),
        (assign_a_blocked_task, "INVALID_TRANSITION"),
        (lower_the_progress, "VALIDATION"),
    ],
    ids=lambda value: value.__name__ if callable(value) else value,
)
def test_a_refused_command_raises_its_code_and_writes_nothing(
    swarmlog: Swarmlog, clock: Clock, scenario: Scenario, code: str
) -> None:
    command = scenario(swarmlog, clock)
    head = swarmlog.store.head()
    with pytest.raises(DomainError) as refused:
        swarmlog.handle(command)
    assert refused.value.code == code
    assert swarmlog.store.head() == head


def test_a_blocked_task_is_refused_naming_what_it_waits_on(swarmlog: Swarmlog) -> None:
    dependency = create_task(swarmlog)
    blocked = create_task(swarmlog, dependencies=[dependency])
    with pytest.raises(DomainError) as refused:
        swarmlog.handle(AssignTask(task_id=blocked, agent_id=spawn(swarmlog)))
    assert refused.value.details["waiting_on"] == [str(dependency)]


# ---------------------------------------------------------------- positions


def test_the_result_position_is_the_head_right_after_the_command(make_app: MakeApp) -> None:
    app = make_app(inline_policies=False)
    agent = app.handle(SpawnAgent(**ADA)).aggregate_id
    task = create_task(app)
    swarm = init_swarm(app)
    for command in [
        JoinSwarm(swarm_id=swarm, agent_id=agent),
        AssignTask(task_id=task, agent_id=agent, idempotency_key="assign"),
        StartTask(task_id=task),
        ReportTaskProgress(task_id=task, percent=10),
        AssignTask(task_id=task, agent_id=agent, idempotency_key="assign"),  # repeated
        ScaleSwarm(swarm_id=swarm, max_agents=10),  # changes nothing
    ]:
        result = app.handle(command)
        assert result.position == app.store.head()


def test_with_inline_policies_the_position_is_that_of_the_commands_own_last_event(
    swarmlog: Swarmlog,
) -> None:
    agent = spawn(swarmlog)
    result = swarmlog.handle(AssignTask(task_id=create_task(swarmlog), agent_id=agent))
    assert swarmlog.store.head() > result.position  # the agent took the task since
    assert names(events(swarmlog, result.position, result.position)) == ["Task.Assigned"]


# ---------------------------------------------------------------- two processes, one store


def test_a_second_process_decides_on_the_current_state_not_its_cached_one(
    make_app: MakeApp,
) -> None:
    one = make_app()
    two = make_app(one.settings)
    agent = spawn(one)
    spawn(two)  # any command: both processes are warm
    two.store.load(Agent, agent)  # two has read the agent while it was ready
    one.handle(PauseAgent(agent_id=agent))

    result = two.handle(ResumeAgent(agent_id=agent))
    assert result.events == ("Agent.Transitioned",)
