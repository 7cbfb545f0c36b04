"""Steps shared by every feature: the world of one scenario, agents, swarms and tasks.

Each scenario runs the real application on a SQLite store of its own. Steps refer
to agents, swarms, tasks and proposals by the names the scenario gives them; the
world keeps the map from those names to ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from pytest_bdd import given, parsers, then, when

from application.bootstrap import Swarmlog, bootstrap
from application.bus import CommandResult
from application.commands import (
    AssignTask,
    CancelTask,
    Command,
    CompleteTask,
    CreateTask,
    FailTask,
    InitSwarm,
    JoinSwarm,
    ReportTaskProgress,
    RetryTask,
    SpawnAgent,
    StartTask,
    TimeOutTask,
    parse_command,
)
from domain.agent import Agent
from domain.errors import DomainError
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from tests.conftest import Clock, sqlite_settings

STATES = (
    "created|initializing|ready|working|waiting|paused|stopping|stopped|error|terminated"
    "|queued|blocked|assigned|running|completed|failed|cancelled|timed out"
    "|open|accepted|rejected|expired|active|shut down"
)
NAME = r'"(?P<name>[^"]+)"'


def quoted(text: str) -> list[str]:
    """The names in a phrase like '"ann", "ben" and "cat"'."""
    return re.findall(r'"([^"]+)"', text)


def words(text: str) -> list[str]:
    """The items of a phrase like 'python, sql and docs'."""
    return [w for w in re.split(r",\s*|\s+and\s+", text.strip()) if w]


def state_word(text: str) -> str:
    return text.strip().replace(" ", "_")


@dataclass
class World:
    """One scenario's application, clock, names and the outcome of the last command."""

    app: Swarmlog
    clock: Clock
    ids: dict[str, UUID] = field(default_factory=dict)
    error: DomainError | None = None
    refusal: DomainError | None = None
    head_before: int = 0
    result: CommandResult | None = None
    answer: Any = None
    proposal_name: str = ""

    def id(self, name: str) -> UUID:
        assert name in self.ids, f"the scenario has not introduced {name!r}"
        return self.ids[name]

    def name_of(self, aggregate_id: UUID | str) -> str:
        for name, known in self.ids.items():
            if str(known) == str(aggregate_id):
                return name
        return f"<unnamed {aggregate_id}>"

    def _settle(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise AssertionError(f"an earlier command was refused unexpectedly: {error}")

    def do(self, kind: type[Command], **data: Any) -> CommandResult:
        """Run a command that must succeed (set-up steps)."""
        self._settle()
        self.result = self.app.handle(parse_command(kind, data), actor="operator")
        return self.result

    def attempt(self, kind: type[Command], **data: Any) -> CommandResult | None:
        """Run a command that may be refused; a refusal is kept for a Then step."""
        self._settle()
        self.head_before = self.app.store.head()
        self.result = None
        try:
            self.result = self.app.handle(parse_command(kind, data), actor="operator")
        except DomainError as error:
            self.error = error
        return self.result

    def take_refusal(self) -> DomainError:
        assert self.error is not None, "the command was not refused"
        self.refusal, self.error = self.error, None
        return self.refusal

    def load(self, kind: type[Any], name: str) -> Any:
        self._settle()
        return self.app.store.load(kind, self.id(name))

    def agent(self, name: str) -> Agent:
        return self.load(Agent, name)

    def swarm(self, name: str) -> Swarm:
        return self.load(Swarm, name)

    def task(self, name: str) -> Task:
        return self.load(Task, name)

    def proposal(self, name: str) -> Proposal:
        return self.load(Proposal, name)

    def state_of(self, name: str) -> str:
        for kind, attribute in ((Agent, "state"), (Task, "status"), (Proposal, "status")):
            try:
                return str(getattr(self.load(kind, name), attribute))
            except DomainError:
                continue
        return str(self.swarm(name).status)

    def spawn(self, name: str, agent_type: str, capabilities: list[str], max_load: int = 3) -> None:
        result = self.do(
            SpawnAgent,
            name=name,
            agent_type=agent_type,
            capabilities=capabilities,
            max_load=max_load,
        )
        self.ids[name] = result.aggregate_id

    def ensure_agent(self, name: str) -> None:
        if name not in self.ids:
            self.spawn(name, "researcher", ["research"])

    def member_loads(self, swarm: str) -> dict[str, int]:
        members = self.swarm(swarm).members
        return {m: self.app.store.load(Agent, UUID(m)).load for m in members}


@pytest.fixture
def world(tmp_path: Path, clock: Clock) -> Iterator[World]:
    app = bootstrap(sqlite_settings(tmp_path), clock=clock)
    state = World(app, clock)
    yield state
    app.close()
    assert state.error is None, f"a refusal no step looked at: {state.error}"


# --- outcomes of commands ---------------------------------------------------------


@then(parsers.parse('it is refused with "{code}"'))
def refused_with(world: World, code: str) -> None:
    error = world.take_refusal()
    assert error.code == code, f"refused with {error.code}, not {code}: {error.message}"


@then("nothing was recorded")
def nothing_recorded(world: World) -> None:
    assert world.app.store.head() == world.head_before


@then(parsers.parse("the refusal is about the {field}"))
def refusal_about(world: World, field: str) -> None:
    assert world.refusal is not None
    assert world.refusal.details.get("field") == field.replace(" ", "_"), world.refusal.details


@then(parsers.re(NAME + rf" is (?:still |now )?(?P<state>{STATES})"))
def is_in_state(world: World, name: str, state: str) -> None:
    assert world.state_of(name) == state_word(state)


@when(parsers.parse("{seconds:d} seconds pass"))
@given(parsers.parse("{seconds:d} seconds have passed"))
def time_passes(world: World, seconds: int) -> None:
    world.clock.advance(seconds=seconds)


# --- agents -----------------------------------------------------------------------

SPAWN = (
    r'an agent named "(?P<name>[^"]+)", an? (?P<agent_type>[\w-]+) with '
    r"(?P<caps>no capabilities|capabilities [\w, -]+?)"
    r"(?: and a maximum load of (?P<max_load>-?\d+))?"
)


def _capabilities(phrase: str) -> list[str]:
    return [] if phrase == "no capabilities" else words(phrase.removeprefix("capabilities "))


@given(parsers.re(SPAWN))
def given_agent(world: World, name: str, agent_type: str, caps: str, max_load: str | None) -> None:
    world.spawn(name, agent_type, _capabilities(caps), int(max_load or 3))


@when(parsers.re("I spawn " + SPAWN))
def spawn_agent(world: World, name: str, agent_type: str, caps: str, max_load: str | None) -> None:
    result = world.attempt(
        SpawnAgent,
        name=name,
        agent_type=agent_type,
        capabilities=_capabilities(caps),
        max_load=int(max_load or 3),
    )
    if result is not None:
        world.ids[name] = result.aggregate_id


@given("these agents:")
def these_agents(world: World, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    for row in rows:
        spec = dict(zip(header, row, strict=True))
        world.spawn(
            spec["name"],
            spec["type"],
            words(spec["capabilities"]),
            int(spec.get("max load") or 3),
        )


@then(parsers.re(NAME + r" holds no tasks"))
def holds_nothing(world: World, name: str) -> None:
    held = [world.name_of(t) for t in world.agent(name).current_tasks]
    assert held == [], f"{name} holds {held}"


@then(parsers.re(NAME + r" holds (?P<tasks>\".*)"))
def holds_tasks(world: World, name: str, tasks: str) -> None:
    held = sorted(world.name_of(t) for t in world.agent(name).current_tasks)
    assert held == sorted(quoted(tasks))


# --- swarms -----------------------------------------------------------------------

SWARM = (
    r'an? (?P<topology>\w+) swarm named "(?P<swarm>[^"]+)"'
    r"(?: of at most (?P<max_agents>\d+) agents)?"
    r"(?: with a maximum depth of (?P<depth>\d+) and a branching factor of (?P<branching>\d+))?"
)


def _init_swarm(
    world: World,
    topology: str,
    swarm: str,
    max_agents: str | None,
    depth: str | None,
    branching: str | None,
) -> None:
    options = {
        "max_agents": int(max_agents or 10),
        "max_depth": int(depth or 3),
        "branching_factor": int(branching or 3),
    }
    result = world.do(InitSwarm, name=swarm, topology=topology, **options)
    world.ids[swarm] = result.aggregate_id


@given(parsers.re(SWARM))
def given_swarm(
    world: World,
    topology: str,
    swarm: str,
    max_agents: str | None,
    depth: str | None,
    branching: str | None,
) -> None:
    _init_swarm(world, topology, swarm, max_agents, depth, branching)


@given(parsers.re(SWARM + r" whose members are (?P<names>\".*)"))
def given_swarm_with_members(
    world: World,
    topology: str,
    swarm: str,
    max_agents: str | None,
    depth: str | None,
    branching: str | None,
    names: str,
) -> None:
    _init_swarm(world, topology, swarm, max_agents, depth, branching)
    for name in quoted(names):
        world.ensure_agent(name)
        world.do(JoinSwarm, swarm_id=world.id(swarm), agent_id=world.id(name))


@given(parsers.re(r'(?P<names>".*") (?:has|have) joined "(?P<swarm>[^"]+)"(?: in that order)?'))
def given_joined(world: World, names: str, swarm: str) -> None:
    for name in quoted(names):
        world.ensure_agent(name)
        world.do(JoinSwarm, swarm_id=world.id(swarm), agent_id=world.id(name))


@then(parsers.re(r'"(?P<swarm>[^"]+)" takes at most (?P<size>\d+) agents'))
def takes_at_most(world: World, swarm: str, size: str) -> None:
    assert world.swarm(swarm).max_agents == int(size)


@when(parsers.re(NAME + r' joins "(?P<swarm>[^"]+)"'))
def when_joins(world: World, name: str, swarm: str) -> None:
    world.ensure_agent(name)
    world.attempt(JoinSwarm, swarm_id=world.id(swarm), agent_id=world.id(name))


# --- tasks ------------------------------------------------------------------------

TASK = (
    r'a task "(?P<task>[^"]+)"'
    r"(?: requiring (?P<caps>[\w, -]+?))?"
    r'(?: for "(?P<swarm>[^"]+)")?'
    r"(?: with a timeout of (?P<timeout>\d+) seconds)?"
    r"(?: that may be retried (?P<retries>\d+) times?)?"
    r"(?: depending on (?P<deps>\".*))?"
)


def make_task(
    world: World,
    task: str,
    caps: str | None = None,
    swarm: str | None = None,
    timeout: str | None = None,
    retries: str | None = None,
    deps: str | None = None,
    *,
    must_succeed: bool = True,
) -> None:
    data: dict[str, Any] = {
        "description": task,
        "task_type": "general",
        "required_capabilities": words(caps) if caps else [],
        "dependencies": [world.ids.get(d) or uuid4() for d in quoted(deps or "")],
    }
    if swarm:
        data["swarm_id"] = world.id(swarm)
    if timeout:
        data["timeout_seconds"] = float(timeout)
    if retries:
        data["max_retries"] = int(retries)
    run = world.do if must_succeed else world.attempt
    result = run(CreateTask, **data)
    if result is not None:
        world.ids[task] = result.aggregate_id


@given(parsers.re(TASK))
def given_task(
    world: World,
    task: str,
    caps: str | None,
    swarm: str | None,
    timeout: str | None,
    retries: str | None,
    deps: str | None,
) -> None:
    make_task(world, task, caps, swarm, timeout, retries, deps)


@when(parsers.re("I create " + TASK))
def create_task(
    world: World,
    task: str,
    caps: str | None,
    swarm: str | None,
    timeout: str | None,
    retries: str | None,
    deps: str | None,
) -> None:
    make_task(world, task, caps, swarm, timeout, retries, deps, must_succeed=False)


@given(parsers.re(r'"(?P<task>[^"]+)" has been assigned to "(?P<agent>[^"]+)"'))
def given_assigned(world: World, task: str, agent: str) -> None:
    if task not in world.ids:
        make_task(world, task)
    world.do(AssignTask, task_id=world.id(task), agent_id=world.id(agent))


@given(parsers.re(r'"(?P<agent>[^"]+)" is working on "(?P<task>[^"]+)"'))
def given_working_on(world: World, agent: str, task: str) -> None:
    given_assigned(world, task, agent)
    world.do(StartTask, task_id=world.id(task))


@given(parsers.re(r'"(?P<task>[^"]+)" has been completed by "(?P<agent>[^"]+)"'))
def given_completed(world: World, task: str, agent: str) -> None:
    given_working_on(world, agent, task)
    world.do(CompleteTask, task_id=world.id(task))


@when(parsers.re(r'I assign "(?P<task>[^"]+)" to "(?P<agent>[^"]+)"'))
def assign_to(world: World, task: str, agent: str) -> None:
    world.attempt(AssignTask, task_id=world.id(task), agent_id=world.id(agent))


@when(parsers.re(r'I assign "(?P<task>[^"]+)" within "(?P<swarm>[^"]+)" by (?P<strategy>[\w ]+)'))
def assign_by_strategy(world: World, task: str, swarm: str, strategy: str) -> None:
    strategies = {"capability match": "capability"}
    world.attempt(
        AssignTask,
        task_id=world.id(task),
        swarm_id=world.id(swarm),
        strategy=strategies.get(strategy, strategy.replace(" ", "_")),
    )


@when(parsers.re(r'I start "(?P<task>[^"]+)"'))
def start(world: World, task: str) -> None:
    world.attempt(StartTask, task_id=world.id(task))


@when(parsers.re(r'"(?P<task>[^"]+)" reports (?P<percent>\d+)% progress'))
def progress(world: World, task: str, percent: str) -> None:
    world.attempt(ReportTaskProgress, task_id=world.id(task), percent=int(percent))


@when(parsers.re(r'"(?P<task>[^"]+)" completes'))
def complete(world: World, task: str) -> None:
    world.attempt(CompleteTask, task_id=world.id(task), result="done")


@when(parsers.re(r'"(?P<task>[^"]+)" fails(?: again)?'))
def fail(world: World, task: str) -> None:
    world.attempt(FailTask, task_id=world.id(task), error="the agent crashed")


@when(parsers.re(r'I retry "(?P<task>[^"]+)"'))
def retry(world: World, task: str) -> None:
    world.attempt(RetryTask, task_id=world.id(task))


@when(parsers.re(r'I cancel "(?P<task>[^"]+)"'))
def cancel(world: World, task: str) -> None:
    world.attempt(CancelTask, task_id=world.id(task), reason="no longer needed")


@when(parsers.re(r'I time out "(?P<task>[^"]+)"'))
def time_out(world: World, task: str) -> None:
    world.attempt(TimeOutTask, task_id=world.id(task))


@then(parsers.re(r'"(?P<task>[^"]+)" is assigned to "(?P<agent>[^"]+)"'))
def assigned_to(world: World, task: str, agent: str) -> None:
    found = world.task(task)
    assert found.status == "assigned"
    assert world.name_of(found.agent_id) == agent


@then(parsers.re(r'"(?P<task>[^"]+)" has no agent'))
def has_no_agent(world: World, task: str) -> None:
    assert world.task(task).agent_id is None
