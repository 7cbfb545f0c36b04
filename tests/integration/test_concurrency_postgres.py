"""Eight threads on the same aggregates of one PostgreSQL store.

Each thread issues commands on shared aggregates (one swarm to join, one proposal
to vote on, two agents to pause and resume, two running tasks to report on, two
workers to assign to). Then: every accepted command's events are stored exactly
once, every refusal is a conflict or a refusal the domain explains, and the final
state is what the accepted commands did.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap
from application.bus import CommandResult
from application.commands import (
    AssignTask,
    CastVote,
    Command,
    JoinSwarm,
    PauseAgent,
    ReportTaskProgress,
    ResumeAgent,
)
from domain.agent import Agent
from domain.errors import DomainError
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from tests.conftest import Clock, postgres_settings
from tests.integration.helpers import create_task, init_swarm, propose, run_task, spawn

pytestmark = pytest.mark.postgres

THREADS = 8

LEGITIMATE = {
    JoinSwarm: {"CAPACITY_EXCEEDED"},  # the swarm filled up first
    CastVote: {"ALREADY_VOTED", "PROPOSAL_CLOSED"},  # two threads vote for each voter
    PauseAgent: {"INVALID_TRANSITION"},  # another thread paused it first
    ResumeAgent: {"INVALID_TRANSITION"},  # another thread resumed it first
    ReportTaskProgress: {"VALIDATION"},  # another thread reported more already
    AssignTask: {"CAPACITY_EXCEEDED"},  # the worker filled up first
}


@dataclass
class World:
    """The shared aggregates, made before the threads start."""

    swarm: UUID
    joiners: list[UUID]
    proposal: UUID
    voters: list[UUID]
    toggled: list[UUID]
    running: list[UUID]
    workers: list[UUID]
    queued: list[UUID]
    versions: dict[UUID, int] = field(default_factory=dict)


def build_world(app: Swarmlog) -> World:
    voters = [spawn(app, name=f"voter{i}") for i in range(THREADS)]
    proposal = propose(app, init_swarm(app, voters), voters[0], protocol="unanimous")
    holder = spawn(app, name="holder")
    running = [create_task(app), create_task(app)]
    for task in running:
        run_task(app, task, holder)
    world = World(
        swarm=init_swarm(app, max_agents=12),
        joiners=[spawn(app, name=f"joiner{i}") for i in range(2 * THREADS)],
        proposal=proposal,
        voters=voters,
        toggled=[spawn(app, name="toggled0"), spawn(app, name="toggled1")],
        running=running,
        workers=[spawn(app, name=f"worker{i}", max_load=3) for i in range(2)],
        queued=[create_task(app) for _ in range(2 * THREADS)],
    )
    for aggregate_id in [world.swarm, world.proposal, *world.toggled, *running]:
        world.versions[aggregate_id] = app.store.repository.get(aggregate_id).version
    return world


def plan(world: World, t: int) -> list[Command]:
    """Thread t's commands, the kinds interleaved."""
    joins = [JoinSwarm(swarm_id=world.swarm, agent_id=world.joiners[2 * t + i]) for i in (0, 1)]
    votes = [
        CastVote(proposal_id=world.proposal, voter_id=world.voters[(t + i) % THREADS], approve=True)
        for i in (0, 1)
    ]
    toggles: list[Command] = []
    for k in range(4):
        agent = world.toggled[k % 2]
        toggles.append(PauseAgent(agent_id=agent) if k < 2 else ResumeAgent(agent_id=agent))
    progress = [
        ReportTaskProgress(task_id=world.running[k % 2], percent=10 * k + t + 1) for k in range(4)
    ]
    assigns = [
        AssignTask(task_id=world.queued[2 * t + i], agent_id=world.workers[i]) for i in (0, 1)
    ]
    kinds = [joins, votes, toggles, progress, assigns]
    return [c for step in range(4) for kind in kinds if step < len(kind) for c in [kind[step]]]


@dataclass
class Record:
    accepted: list[tuple[str, Command, CommandResult]] = field(default_factory=list)
    refused: list[tuple[Command, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def hammer(apps: list[Swarmlog], world: World) -> Record:
    record = Record()
    barrier = threading.Barrier(THREADS)

    def work(t: int) -> None:
        app = apps[t % len(apps)]
        barrier.wait()
        for n, command in enumerate(plan(world, t)):
            correlation = f"t{t}-{n}"
            try:
                result = app.handle(command, actor=f"thread-{t}", correlation_id=correlation)
            except DomainError as error:
                with record.lock:
                    record.refused.append((command, error.code))
            except Exception as error:  # anything else is a failure of the test
                with record.lock:
                    record.refused.append((command, f"ERROR {type(error).__name__}: {error}"))
            else:
                with record.lock:
                    record.accepted.append((correlation, command, result))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return record


@pytest.fixture(params=[0, 5], ids=["no-retries", "retries"])
def settings(request: pytest.FixtureRequest, postgres_schema: str) -> Settings:
    return postgres_settings(postgres_schema).model_copy(update={"command_retries": request.param})


@pytest.fixture(params=["app-per-thread", "shared-app"])
def apps(
    request: pytest.FixtureRequest, settings: Settings, clock: Clock
) -> Iterator[list[Swarmlog]]:
    count = THREADS if request.param == "app-per-thread" else 1
    made = [bootstrap(settings, clock=clock) for _ in range(count)]
    yield made
    for app in made:
        app.close()


def accepted_of(record: Record, kind: type) -> list[tuple[str, Any, CommandResult]]:
    return [a for a in record.accepted if isinstance(a[1], kind)]


def test_concurrent_commands_on_shared_aggregates(
    apps: list[Swarmlog], settings: Settings, clock: Clock
) -> None:
    world = build_world(apps[0])
    record = hammer(apps, world)
    fresh = bootstrap(settings, inline_policies=False, clock=clock)  # reads the store, no cache
    try:
        check(fresh, world, record, settings)
        if len(apps) == 1:
            # One process: its runner's reactions are complete and not repeated. With a
            # process per thread, runners react on stale cached aggregates and lose
            # reactions: see test_policies.py::test_a_runner_reacts_on_the_current_state.
            apps[0].policies.catch_up()
            check_policies(fresh, world)
    finally:
        fresh.close()


def check_policies(app: Swarmlog, world: World) -> None:
    for worker in world.workers:
        agent = app.store.load(Agent, worker)
        held = [
            t
            for t in world.queued
            if (task := app.store.load(Task, t)).status == "assigned" and task.agent_id == worker
        ]
        assert sorted(agent.current_tasks) == sorted(held)
        assert agent.load <= agent.max_load
    for task_id in world.queued:  # nobody holds a task that went back to the queue
        task = app.store.load(Task, task_id)
        assert task.status in ("queued", "assigned")
    decided = app.store.load(Proposal, world.proposal).status == "accepted"
    for voter in world.voters:
        assert app.store.load(Agent, voter).votes_cast == int(decided)


def check(app: Swarmlog, world: World, record: Record, settings: Settings) -> None:
    total = sum(len(plan(world, t)) for t in range(THREADS))
    assert len(record.accepted) + len(record.refused) == total

    # every refusal is a conflict or a refusal the domain explains
    for command, code in record.refused:
        allowed = LEGITIMATE[type(command)] | {"CONFLICT"}
        assert code in allowed, f"{type(command).__name__} refused with {code}"
    if settings.command_retries == 0:
        assert any(code == "CONFLICT" for _, code in record.refused)

    # every stored event once; versions contiguous per stream
    notifications = list(app.store.notifications())
    per_version = Counter((n.originator_id, n.originator_version) for n in notifications)
    assert set(per_version.values()) == {1}
    versions: dict[UUID, list[int]] = defaultdict(list)
    for n in notifications:
        versions[n.originator_id].append(n.originator_version)
    for stream in versions.values():
        assert sorted(stream) == list(range(1, len(stream) + 1))

    # every accepted command's events are stored once, refused commands wrote nothing
    by_correlation: dict[str, list[Any]] = defaultdict(list)
    for n in notifications:
        event = app.store.decode(n)
        if event.actor.startswith("thread-"):
            by_correlation[event.correlation_id].append(event)
    assert set(by_correlation) == {c for c, _, _ in record.accepted}
    for correlation, _, result in record.accepted:
        written = by_correlation[correlation]
        assert [type(e).__qualname__ for e in written] == list(result.events)
        assert {e.originator_id for e in written} == {result.aggregate_id}
        assert sorted(e.originator_version for e in written)[-1] == result.version

    # the swarm has exactly the members whose join succeeded
    swarm = app.store.load(Swarm, world.swarm)
    joined = {str(c.agent_id) for _, c, _ in accepted_of(record, JoinSwarm)}
    assert set(swarm.members) == joined
    assert len(joined) <= 12

    # the votes counted are the accepted votes
    proposal = app.store.load(Proposal, world.proposal)
    voted = [str(c.voter_id) for _, c, _ in accepted_of(record, CastVote)]
    assert sorted(proposal.votes["vote"]) == sorted(voted)
    assert len(set(voted)) == len(voted)
    expected = "accepted" if len(voted) == THREADS else "open"
    assert (proposal.status, proposal.approvals) == (
        expected,
        len(voted) if expected == "accepted" else 0,
    )

    # pause and resume alternate, in the order they were stored
    for agent_id in world.toggled:
        toggles = sorted(
            (r.version, type(c))
            for _, c, r in record.accepted
            if isinstance(c, PauseAgent | ResumeAgent) and c.agent_id == agent_id
        )
        start = world.versions[agent_id]
        assert [v for v, _ in toggles] == list(range(start + 1, start + len(toggles) + 1))
        kinds = [k for _, k in toggles]  # it starts ready: pause, resume, pause, ...
        assert kinds == [ResumeAgent if i % 2 else PauseAgent for i in range(len(kinds))]
        final = "paused" if kinds and kinds[-1] is PauseAgent else "ready"
        assert app.store.load(Agent, agent_id).state == final

    # progress only went up, and is the last accepted report
    for task_id in world.running:
        reports = sorted(
            (r.version, c.percent)
            for _, c, r in accepted_of(record, ReportTaskProgress)
            if c.task_id == task_id
        )
        percents = [p for _, p in reports]
        assert percents == sorted(percents)
        assert app.store.load(Task, task_id).progress == (percents[-1] if percents else 0)

    # each accepted assignment wrote one Assigned event for its task and worker
    assigned = Counter(
        (n.originator_id, app.store.decode(n).agent_id)
        for n in app.store.notifications(topics=["domain.task:Task.Assigned"])
        if n.originator_id in set(world.queued)
    )
    accepted_assigns = Counter(
        (c.task_id, c.agent_id) for _, c, _ in accepted_of(record, AssignTask)
    )
    assert assigned == accepted_assigns
