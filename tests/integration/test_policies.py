"""Policies on a real store: the cross-aggregate consequences of events, exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from uuid import UUID

import pytest

from application.bootstrap import Swarmlog
from application.commands import (
    AssignTask,
    CancelTask,
    CompleteTask,
    FailTask,
    PauseAgent,
    RetryTask,
    StartTask,
    TerminateAgent,
    TimeOutTask,
)
from domain.agent import Agent
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from tests.conftest import Clock
from tests.integration.conftest import MakeApp
from tests.integration.helpers import (
    create_task,
    events,
    finish_task,
    init_swarm,
    names,
    propose,
    run_task,
    spawn,
    vote,
)


def agent(app: Swarmlog, agent_id: UUID) -> Agent:
    return app.store.load(Agent, agent_id)


def task(app: Swarmlog, task_id: UUID) -> Task:
    return app.store.load(Task, task_id)


# ---------------------------------------------------------------- agent workload


def test_assigning_a_task_makes_its_agent_working_with_load_one(swarmlog: Swarmlog) -> None:
    worker = spawn(swarmlog)
    job = create_task(swarmlog)
    swarmlog.handle(AssignTask(task_id=job, agent_id=worker))
    taken = agent(swarmlog, worker)
    assert (taken.state, taken.load, taken.current_tasks) == ("working", 1, [job])


@pytest.mark.parametrize(
    ("finish", "completed", "failed"),
    [
        (lambda app, clock, t: app.handle(CompleteTask(task_id=t)), 1, 0),
        (lambda app, clock, t: app.handle(FailTask(task_id=t, error="boom")), 0, 1),
        (lambda app, clock, t: app.handle(CancelTask(task_id=t)), 0, 0),
        (
            lambda app, clock, t: (
                clock.advance(seconds=61),
                app.handle(TimeOutTask(task_id=t)),
            ),
            0,
            1,
        ),
    ],
    ids=["completed", "failed", "cancelled", "timed_out"],
)
def test_a_task_that_ends_frees_its_agent_and_is_counted(
    swarmlog: Swarmlog,
    clock: Clock,
    finish: Callable[[Swarmlog, Clock, UUID], object],
    completed: int,
    failed: int,
) -> None:
    worker = spawn(swarmlog)
    job = create_task(swarmlog, timeout_seconds=60)
    run_task(swarmlog, job, worker)
    finish(swarmlog, clock, job)
    freed = agent(swarmlog, worker)
    assert (freed.state, freed.load) == ("ready", 0)
    assert (freed.completed_count, freed.failed_count) == (completed, failed)


def test_an_agent_still_holding_other_tasks_stays_working(swarmlog: Swarmlog) -> None:
    worker = spawn(swarmlog)
    first, second = create_task(swarmlog), create_task(swarmlog)
    run_task(swarmlog, first, worker)
    run_task(swarmlog, second, worker)
    swarmlog.handle(CompleteTask(task_id=first))
    busy = agent(swarmlog, worker)
    assert (busy.state, busy.current_tasks) == ("working", [second])


def test_a_task_its_agent_cannot_take_goes_back_to_the_queue(make_app: MakeApp) -> None:
    app = make_app(inline_policies=False)
    worker = spawn(app, max_load=1)
    first, second = create_task(app), create_task(app)
    # the agent's load only grows when the policy runs: both assignments pass the check
    app.handle(AssignTask(task_id=first, agent_id=worker))
    app.handle(AssignTask(task_id=second, agent_id=worker))
    app.policies.catch_up()

    assert agent(app, worker).current_tasks == [first]
    assert task(app, first).status == "assigned"
    assert task(app, second).status == "queued"
    requeued = events(app, kinds=[Task.Requeued])
    assert [(e.originator_id, e.agent_id) for e in requeued] == [(second, worker)]
    assert requeued[0].reason.startswith("the agent could not take it")


def test_a_task_assigned_to_an_agent_paused_meanwhile_goes_back_to_the_queue(
    make_app: MakeApp,
) -> None:
    app = make_app(inline_policies=False)
    worker = spawn(app)
    job = create_task(app)
    app.handle(AssignTask(task_id=job, agent_id=worker))
    app.handle(PauseAgent(agent_id=worker))
    app.policies.catch_up()
    assert task(app, job).status == "queued"
    assert (agent(app, worker).state, agent(app, worker).load) == ("paused", 0)


def test_terminating_an_agent_sends_its_open_tasks_back_to_the_queue(swarmlog: Swarmlog) -> None:
    worker = spawn(swarmlog)
    running, assigned, done = create_task(swarmlog), create_task(swarmlog), create_task(swarmlog)
    finish_task(swarmlog, done, worker)
    run_task(swarmlog, running, worker)
    swarmlog.handle(AssignTask(task_id=assigned, agent_id=worker))

    swarmlog.handle(TerminateAgent(agent_id=worker, reason="bye"))

    assert {task(swarmlog, t).status for t in (running, assigned)} == {"queued"}
    assert task(swarmlog, done).status == "completed"
    assert {e.originator_id for e in events(swarmlog, kinds=[Task.Requeued])} == {
        running,
        assigned,
    }
    gone = agent(swarmlog, worker)
    assert (gone.state, gone.load) == ("terminated", 0)


# ---------------------------------------------------------------- dependencies


def test_a_blocked_task_is_queued_when_all_its_dependencies_complete(swarmlog: Swarmlog) -> None:
    worker = spawn(swarmlog)
    first, second = create_task(swarmlog), create_task(swarmlog)
    waiting = create_task(swarmlog, dependencies=[first, second])
    assert task(swarmlog, waiting).status == "blocked"

    finish_task(swarmlog, first, worker)
    still = task(swarmlog, waiting)
    assert (still.status, still.waiting_on) == ("blocked", [second])

    run_task(swarmlog, second, worker)
    swarmlog.handle(FailTask(task_id=second, error="not yet"))
    assert task(swarmlog, waiting).status == "blocked"  # a failure resolves nothing

    swarmlog.handle(RetryTask(task_id=second))
    swarmlog.handle(CancelTask(task_id=second))
    assert task(swarmlog, waiting).status == "blocked"  # nor does a cancellation

    third = create_task(swarmlog)
    later = create_task(swarmlog, dependencies=[third])
    finish_task(swarmlog, third, worker)
    assert task(swarmlog, later).status == "queued"
    resolved = events(swarmlog, kinds=[Task.DependencyResolved])
    assert [(e.originator_id, e.dependency_id) for e in resolved] == [
        (waiting, first),
        (later, third),
    ]


# ---------------------------------------------------------------- proposals


def voting_swarm(app: Swarmlog, size: int = 3) -> tuple[UUID, list[UUID]]:
    members = [spawn(app, name=f"m{i}") for i in range(size)]
    return init_swarm(app, members), members


def accept(app: Swarmlog, swarm: UUID, members: list[UUID], action: dict[str, object]) -> UUID:
    proposal = propose(app, swarm, members[0], action=action)
    vote(app, proposal, members[0])
    vote(app, proposal, members[1])
    assert app.store.load(Proposal, proposal).status == "accepted"
    return proposal


def test_an_accepted_scale_proposal_scales_the_swarm(swarmlog: Swarmlog) -> None:
    swarm, members = voting_swarm(swarmlog)
    accept(swarmlog, swarm, members, {"type": "scale_swarm", "max_agents": 7})
    assert swarmlog.store.load(Swarm, swarm).max_agents == 7


def test_an_accepted_strategy_proposal_changes_the_strategy(swarmlog: Swarmlog) -> None:
    swarm, members = voting_swarm(swarmlog)
    accept(swarmlog, swarm, members, {"type": "change_strategy", "strategy": "specialized"})
    assert swarmlog.store.load(Swarm, swarm).strategy == "specialized"


def test_an_accepted_reassign_proposal_moves_the_task_to_the_named_agent(
    swarmlog: Swarmlog,
) -> None:
    swarm, members = voting_swarm(swarmlog)
    job = create_task(swarmlog)
    run_task(swarmlog, job, members[0])
    action = {"type": "reassign_task", "task_id": str(job), "agent_id": str(members[2])}
    accept(swarmlog, swarm, members, action)

    moved = task(swarmlog, job)
    assert (moved.status, moved.agent_id, moved.assignment_strategy) == (
        "assigned",
        members[2],
        "consensus",
    )
    assert agent(swarmlog, members[0]).load == 0
    assert agent(swarmlog, members[2]).current_tasks == [job]


def test_a_rejected_proposal_changes_nothing(swarmlog: Swarmlog) -> None:
    swarm, members = voting_swarm(swarmlog)
    before = swarmlog.store.load(Swarm, swarm)
    proposal = propose(swarmlog, swarm, members[0], action={"type": "scale_swarm", "max_agents": 7})
    vote(swarmlog, proposal, members[0], approve=False)
    vote(swarmlog, proposal, members[1], approve=False)
    assert swarmlog.store.load(Proposal, proposal).status == "rejected"
    after = swarmlog.store.load(Swarm, swarm)
    assert (after.version, after.max_agents) == (before.version, before.max_agents)


def test_a_decided_proposal_scores_every_voters_expertise(swarmlog: Swarmlog) -> None:
    swarm, members = voting_swarm(swarmlog, size=4)
    proposal = propose(swarmlog, swarm, members[0])  # majority of 4: 3 approvals
    vote(swarmlog, proposal, members[0], approve=True)
    vote(swarmlog, proposal, members[1], approve=False)
    vote(swarmlog, proposal, members[2], approve=True)
    vote(swarmlog, proposal, members[3], approve=True)
    assert swarmlog.store.load(Proposal, proposal).status == "accepted"

    scores = [(agent(swarmlog, m).votes_cast, agent(swarmlog, m).votes_agreed) for m in members]
    assert scores == [(1, 1), (1, 0), (1, 1), (1, 1)]
    scored = events(swarmlog, kinds=[Agent.VoteScored])
    assert sorted(e.originator_id for e in scored) == sorted(members)


def test_a_rejection_scores_the_rejecters_as_agreeing(swarmlog: Swarmlog) -> None:
    swarm, members = voting_swarm(swarmlog)
    proposal = propose(swarmlog, swarm, members[0])
    vote(swarmlog, proposal, members[0], approve=False)
    vote(swarmlog, proposal, members[1], approve=False)
    scores = [(agent(swarmlog, m).votes_cast, agent(swarmlog, m).votes_agreed) for m in members]
    assert scores == [(1, 1), (1, 1), (0, 0)]


# ---------------------------------------------------------------- exactly once


def busy_day(app: Swarmlog) -> list[UUID]:
    """Commands that set every policy to work; returns the voting members."""
    swarm, members = voting_swarm(app)
    first = create_task(app)
    create_task(app, dependencies=[first])
    finish_task(app, first, members[0])
    app.handle(AssignTask(task_id=create_task(app), agent_id=members[1]))
    app.handle(AssignTask(task_id=create_task(app), agent_id=members[2]))
    app.handle(TerminateAgent(agent_id=members[2]))
    accept(app, swarm, members, {"type": "scale_swarm", "max_agents": 4})
    return members


def test_a_reaction_records_the_policys_position_with_its_events(make_app: MakeApp) -> None:
    app = make_app()
    result = app.handle(AssignTask(task_id=create_task(app), agent_id=spawn(app)))
    assert app.store.recorder.max_tracking_id("agent_workload") == result.position


def test_policies_are_resumable_and_act_exactly_once(make_app: MakeApp) -> None:
    app = make_app(inline_policies=False)
    members = busy_day(app)

    assert app.policies.catch_up() > 0
    head = app.store.head()
    assert app.policies.catch_up() == 0
    assert app.store.head() == head

    restarted = make_app(app.settings, inline_policies=False)
    assert restarted.policies.catch_up() == 0
    assert restarted.store.head() == head

    reactions = Counter(
        (e.causation_id, e.actor) for e in events(restarted) if e.actor.startswith("policy:")
    )
    assert {actor for _, actor in reactions} == {
        "policy:agent_workload",
        "policy:task_dependencies",
        "policy:voter_expertise",
        "policy:proposal_actions",
    }
    taken = Counter(
        (e.originator_id, e.task_id) for e in events(restarted, kinds=[Agent.TaskTaken])
    )
    assert set(taken.values()) == {1}
    assert [agent(restarted, m).votes_cast for m in members] == [1, 1, 0]
    assert restarted.store.load(Swarm, init_swarm(restarted)).max_agents == 10


def test_a_new_runner_picks_up_where_the_last_one_stopped(make_app: MakeApp) -> None:
    app = make_app(inline_policies=False)
    worker = spawn(app)
    first = create_task(app)
    app.handle(AssignTask(task_id=first, agent_id=worker))
    app.policies.catch_up()
    second = create_task(app)
    app.handle(AssignTask(task_id=second, agent_id=worker))
    app.handle(StartTask(task_id=first))
    app.handle(CompleteTask(task_id=first))

    restarted = make_app(app.settings, inline_policies=False)
    # take the second, release the first, resolve the first's dependents
    assert restarted.policies.catch_up() == 3
    head = restarted.store.head()
    app.policies.catch_up()  # the old runner, behind: whatever it redoes is refused
    assert app.store.head() == head
    assert agent(restarted, worker).current_tasks == [second]
    assert agent(restarted, worker).completed_count == 1


def test_a_restarted_runner_does_not_score_votes_twice(make_app: MakeApp) -> None:
    app = make_app()  # inline: the votes are scored as the proposal is decided
    members = busy_day(app)
    assert [agent(app, m).votes_cast for m in members] == [1, 1, 0]

    restarted = make_app(app.settings)
    restarted.policies.catch_up()
    assert [agent(restarted, m).votes_cast for m in members] == [1, 1, 0]


def test_a_runner_reacts_on_the_current_state(make_app: MakeApp) -> None:
    one = make_app(inline_policies=False)
    two = make_app(one.settings, inline_policies=False)
    swarm, members = voting_swarm(one)
    proposal = propose(one, swarm, members[0])
    vote(two, proposal, members[0])  # two caches the proposal, open
    vote(one, proposal, members[1])  # one decides it: accepted
    two.policies.catch_up()  # two's runner gets there first

    fresh = make_app(one.settings, inline_policies=False)
    scores = [(agent(fresh, m).votes_cast, agent(fresh, m).votes_agreed) for m in members]
    assert scores == [(1, 1), (1, 1), (0, 0)]


# ---------------------------------------------------------------- context of reactions


def test_policy_events_carry_the_policy_the_cause_and_the_correlation(
    swarmlog: Swarmlog,
) -> None:
    worker = spawn(swarmlog)
    job = create_task(swarmlog)
    result = swarmlog.handle(
        AssignTask(task_id=job, agent_id=worker), actor="user:ada", correlation_id="corr-9"
    )
    taken = events(swarmlog, kinds=[Agent.TaskTaken])
    assert len(taken) == 1
    assert (taken[0].actor, taken[0].correlation_id, taken[0].causation_id) == (
        "policy:agent_workload",
        "corr-9",
        f"{job}:{result.version}",
    )


def test_every_reaction_names_an_event_it_was_caused_by(swarmlog: Swarmlog) -> None:
    busy_day(swarmlog)
    log = events(swarmlog)
    by_cause = {f"{e.originator_id}:{e.originator_version}": e for e in log}
    reactions = [e for e in log if e.actor.startswith("policy:")]
    assert len(reactions) >= 9
    for reaction in reactions:
        cause = by_cause[reaction.causation_id]
        assert reaction.correlation_id == cause.correlation_id
        assert reaction.originator_version  # stored, and after its cause
        assert log.index(reaction) > log.index(cause)
    assert {names([by_cause[r.causation_id]])[0] for r in reactions} >= {
        "Task.Assigned",
        "Task.Completed",
        "Agent.Terminated",
        "Proposal.Decided",
    }
