"""Steps of features/graphql_api.feature: a user's session through the real HTTP API.

Each scenario gets the app served by uvicorn on a free loopback port, on the embedded
default in its own directory. Given steps set the scene as an operator; When steps act
in the scenario's role (``I am a viewer``, ``I send no token``); Then steps read back as
a viewer, at the newest position of the log after the last write, so that the read
models have caught up with it and with what the policies did because of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from adapters.settings import Settings
from tests.bdd.conftest import quoted
from tests.support.far_log import move_log_past
from tests.support.server import Api, embedded_settings, running_api

scenarios("graphql_api.feature")

ERRORS = "position errors { code message field }"
SPAWN = f"""
mutation Spawn($name: String!) {{
  spawnAgent(name: $name, agentType: "coder", capabilities: ["python"], maxLoad: 2) {{
    agent {{ id name state }} {ERRORS}
  }}
}}
"""
INIT = f"""
mutation Init($name: String!, $topology: String!) {{
  initSwarm(name: $name, topology: $topology) {{ swarm {{ id topology }} {ERRORS} }}
}}
"""
JOIN = f"""
mutation Join($swarm: ID!, $agent: ID!) {{
  joinSwarm(swarmId: $swarm, agentId: $agent) {{ swarm {{ id memberCount }} {ERRORS} }}
}}
"""
TASK = "task { id status agentId progress }"
CREATE = f"""
mutation Create($description: String!) {{
  createTask(description: $description, taskType: "code", requiredCapabilities: ["python"]) {{
    {TASK} {ERRORS}
  }}
}}
"""
ASSIGN = f"""
mutation Assign($task: ID!, $agent: ID!) {{
  assignTask(taskId: $task, agentId: $agent) {{ {TASK} {ERRORS} }}
}}
"""
START = f"mutation Start($task: ID!) {{ startTask(taskId: $task) {{ {TASK} {ERRORS} }} }}"
COMPLETE = f"""
mutation Complete($task: ID!) {{
  completeTask(taskId: $task, result: "done") {{ {TASK} {ERRORS} }}
}}
"""
PROPOSE = f"""
mutation Propose($swarm: ID!, $proposer: ID!, $title: String!, $protocol: String!) {{
  createProposal(swarmId: $swarm, proposerId: $proposer, title: $title,
                 value: {{choice: "yes"}}, protocol: $protocol) {{
    proposal {{ id status participants }} {ERRORS}
  }}
}}
"""
VOTE = f"""
mutation Vote($proposal: ID!, $voter: ID!, $approve: Boolean!) {{
  castVote(proposalId: $proposal, voterId: $voter, approve: $approve) {{
    proposal {{ id status }} {ERRORS}
  }}
}}
"""

READ_SWARM = """
query Swarm($id: ID!, $atLeast: Position) {
  swarm(id: $id, atLeast: $atLeast) {
    name topology memberCount members { agentId position }
  }
}
"""
READ_AGENT = """
query Agent($id: ID!, $atLeast: Position) {
  agent(id: $id, atLeast: $atLeast) { id name state load completedCount swarmId }
}
"""
READ_AGENTS = """
query Agents($atLeast: Position, $swarm: ID) {
  agents(first: 200, atLeast: $atLeast, swarmId: $swarm) { nodes { id name swarmId } }
}
"""
READ_TASK = """
query Task($id: ID!, $atLeast: Position) {
  task(id: $id, atLeast: $atLeast) { status agentId progress }
}
"""
READ_PROPOSAL = """
query Proposal($id: ID!, $atLeast: Position) {
  proposal(id: $id, atLeast: $atLeast) {
    status approvals rejections votes { voterId approve }
  }
}
"""

LOG = """
query Log($after: Position) { eventLog(after: $after, first: 100) { nodes { position type } } }
"""

ENTITIES = ("agent", "swarm", "task", "proposal")
NAME = r'"(?P<name>[^"]+)"'
NAMES = r'(?P<names>"[^"]+"(?:(?:, | and )"[^"]+")*)'


@dataclass
class Session:
    """One scenario's server, the caller's role, names to ids and the last answers."""

    api: Api
    role: str | None = "operator"
    ids: dict[str, str] = field(default_factory=dict)
    writes: list[tuple[str, int]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    proposal: str = ""
    server: ExitStack = field(default_factory=ExitStack)
    """What keeps ``api`` served; closed at the scenario's end."""

    def serve(self, settings: Settings) -> None:
        """Stop the server and serve ``settings`` in its place."""
        self.server.close()
        self.api = self.server.enter_context(running_api(settings))

    def id(self, name: str) -> str:
        assert name in self.ids, f"the scenario has not introduced {name!r}"
        return self.ids[name]

    def name_of(self, value: str | None) -> str | None:
        return next((name for name, known in self.ids.items() if known == value), value)

    @property
    def head(self) -> int | None:
        """The position of the last write this session saw."""
        return self.writes[-1][1] if self.writes else None

    def send(self, query: str, role: str | None, /, **variables: Any) -> dict[str, Any]:
        """A mutation in ``role``; its payload, kept for Then steps."""
        self.body = self.api.graphql(query, variables, role=role)
        assert "errors" not in self.body, self.body
        [(mutation, payload)] = self.body["data"].items()
        entities = [payload[k] for k in ENTITIES if k in payload]
        assert len(entities) == 1, payload
        assert (entities[0] is None) == bool(payload["errors"]), payload
        self.payload = payload
        if payload["errors"] == []:
            assert isinstance(payload["position"], int), payload
            self.writes.append((mutation, payload["position"]))
        return self.payload

    def must(self, query: str, name: str | None = None, /, **variables: Any) -> dict[str, Any]:
        """A mutation that must succeed: as an operator in Given steps, else in the role."""
        payload = self.send(query, self.role, **variables)
        assert payload["errors"] == [], payload["errors"]
        if name is not None:
            [entity] = [payload[k] for k in ENTITIES if payload.get(k) is not None]
            self.ids[name] = entity["id"]
        return payload

    def settled(self) -> int | None:
        """The newest position of the log: the last write and what the policies did
        because of it (a completed task frees its agent in an event of its own, after
        the mutation's position)."""
        if self.head is None:
            return None
        body = self.api.graphql(LOG, {"after": self.head}, role="viewer")
        assert "errors" not in body, body
        return max([self.head, *(n["position"] for n in body["data"]["eventLog"]["nodes"])])

    def read(self, query: str, /, **variables: Any) -> Any:
        """A query's data, once the read models have reached the last write and its
        consequences."""
        if "atLeast" not in variables:
            variables["atLeast"] = self.settled()
        self.body = self.api.graphql(query, variables, role="viewer")
        assert "errors" not in self.body, self.body
        [data] = self.body["data"].values()
        return data


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with ExitStack() as server:
        api = server.enter_context(running_api(embedded_settings(tmp_path)))
        yield Session(api, server=server)


def _as_operator(session: Session) -> Session:
    """The session as Given steps use it: an operator sets the scene."""
    return Session(session.api, "operator", session.ids, session.writes, server=session.server)


# --- who is asking ------------------------------------------------------------------


@given(parsers.re(r"I am an? (?P<role>viewer|operator|admin)"))
def i_am(session: Session, role: str) -> None:
    session.role = role
    token = session.api.token(role)
    assert session.api.tokens.verify(token).role == role


@given("I send no token")
def no_token(session: Session) -> None:
    """The endpoint itself is open; each operation decides whether to serve the caller."""
    session.role = None
    answer = session.api.post("{ __typename }", headers={})
    assert (answer.status_code, answer.json()) == (200, {"data": {"__typename": "Query"}})


# --- agents -------------------------------------------------------------------------


def _spawn(session: Session, names: str) -> None:
    for name in quoted(names):
        payload = session.must(SPAWN, name, name=name)
        assert (payload["agent"]["name"], payload["agent"]["state"]) == (name, "ready")


@given(parsers.re(r"the agents? " + NAMES + r" (?:has|have) been spawned"))
def agents_spawned(session: Session, names: str) -> None:
    _spawn(_as_operator(session), names)


@when(parsers.re(r"I spawn the agents? " + NAMES))
def spawn_agents(session: Session, names: str) -> None:
    _spawn(session, names)


@when(parsers.re(r"I try to spawn the agent " + NAME))
def try_to_spawn(session: Session, name: str) -> None:
    session.send(SPAWN, session.role, name=name)


@when("I list the agents")
def list_agents(session: Session) -> None:
    session.body = session.api.graphql(READ_AGENTS, {}, role=session.role)
    agents = (session.body.get("data") or {}).get("agents")
    assert (agents is None) == bool(session.body.get("errors")), session.body


@given(parsers.re(r"the read models are waited for at most (?P<seconds>[\d.]+) s"))
def read_wait(session: Session, seconds: str) -> None:
    """Serve again with SWARMLOG_READ_WAIT_SECONDS set to ``seconds``."""
    session.serve(session.api.settings.model_copy(update={"read_wait_seconds": float(seconds)}))


@when(parsers.re(r"I list the agents at the position (?P<ahead>\d+) past that spawn"))
def list_agents_ahead(session: Session, ahead: str) -> None:
    mutation, position = session.writes[-1]
    assert mutation == "spawnAgent"
    session.body = session.api.graphql(
        READ_AGENTS, {"atLeast": position + int(ahead)}, role=session.role
    )


@given(
    parsers.re(
        r"a store whose log holds the agent " + NAME + r" and has been moved past position "
        r"(?P<far>\d+)"
    )
)
def log_moved_far(session: Session, name: str, far: str) -> None:
    """Stop the server, move the store's log past ``far``, and serve it again."""
    settings = session.api.settings
    session.server.close()  # the store is moved while nothing serves it
    session.ids[name] = str(move_log_past(settings, int(far), first=name))
    session.serve(settings)


@then(parsers.re(r"the position of that spawn is past (?P<far>\d+)"))
def spawned_past(session: Session, far: str) -> None:
    mutation, position = session.writes[-1]
    assert mutation == "spawnAgent"
    assert position > int(far)


@then(parsers.re(r"the agents listed are " + NAMES))
@then(parsers.re(r"the agents listed at the position of that spawn are " + NAMES))
def agents_listed(session: Session, names: str) -> None:
    nodes = session.read(READ_AGENTS)["nodes"]
    assert sorted(n["name"] for n in nodes) == sorted(quoted(names))
    assert {n["id"] for n in nodes} == {session.id(name) for name in quoted(names)}


@then(parsers.re(r"reading the agent " + NAME + r" at the position of that spawn shows it ready"))
def agent_read_ready(session: Session, name: str) -> None:
    mutation, position = session.writes[-1]
    assert mutation == "spawnAgent"
    agent = session.read(READ_AGENT, id=session.id(name), atLeast=position)
    assert agent is not None, f"{name} is not visible at position {position}"
    assert (agent["id"], agent["name"], agent["state"]) == (session.id(name), name, "ready")


@then(
    parsers.re(
        r"the agent " + NAME + r" shows (?P<completed>\d+) completed tasks?"
        r" and a load of (?P<load>\d+)"
    )
)
def agent_shows(session: Session, name: str, completed: str, load: str) -> None:
    agent = session.read(READ_AGENT, id=session.id(name))
    assert (agent["completedCount"], agent["load"]) == (int(completed), int(load)), agent


# --- swarms -------------------------------------------------------------------------


def _form(session: Session, topology: str, swarm: str, names: str) -> None:
    payload = session.must(INIT, swarm, name=swarm, topology=topology)
    assert payload["swarm"]["topology"] == topology
    for count, name in enumerate(quoted(names), start=1):
        joined = session.must(JOIN, swarm=session.id(swarm), agent=session.id(name))
        assert joined["swarm"]["memberCount"] == count


@when(parsers.re(r"I form an? (?P<topology>\w+) swarm " + NAME + r" of " + NAMES))
def form_swarm(session: Session, topology: str, name: str, names: str) -> None:
    _form(session, topology, name, names)


@given(parsers.re(r"an? (?P<topology>\w+) swarm " + NAME + r" of the agents " + NAMES))
def given_swarm(session: Session, topology: str, name: str, names: str) -> None:
    operator = _as_operator(session)
    _spawn(operator, names)
    _form(operator, topology, name, names)


@then(
    parsers.re(
        r"the swarm "
        + NAME
        + r" is an? (?P<topology>\w+) of (?P<count>\d+) members: "
        + NAMES
        + r" in that order"
    )
)
def swarm_shows(session: Session, name: str, topology: str, count: str, names: str) -> None:
    swarm = session.read(READ_SWARM, id=session.id(name))
    assert (swarm["name"], swarm["topology"], swarm["memberCount"]) == (name, topology, int(count))
    members = sorted(swarm["members"], key=lambda m: m["position"])
    assert [session.name_of(m["agentId"]) for m in members] == quoted(names)
    assert [m["position"] for m in members] == list(range(int(count)))


@then(parsers.re(r"the agents " + NAMES + r" are listed in the swarm " + NAME))
def listed_in_swarm(session: Session, names: str, name: str) -> None:
    nodes = session.read(READ_AGENTS, swarm=session.id(name))["nodes"]
    assert sorted(session.name_of(n["id"]) or "" for n in nodes) == sorted(quoted(names))
    assert {n["swarmId"] for n in nodes} == {session.id(name)}


# --- tasks --------------------------------------------------------------------------


@given(parsers.re(r"the task " + NAME + r" has been created"))
def task_created(session: Session, name: str) -> None:
    payload = _as_operator(session).must(CREATE, name, description=name)
    assert payload["task"]["status"] == "queued"


@when(parsers.re(r"I create the task " + NAME))
def create_task(session: Session, name: str) -> None:
    payload = session.must(CREATE, name, description=name)
    assert (payload["task"]["status"], payload["task"]["agentId"]) == ("queued", None)


@when(parsers.re(r"I assign the task " + NAME + r' to "(?P<agent>[^"]+)"'))
def assign_task(session: Session, name: str, agent: str) -> None:
    task = session.must(ASSIGN, task=session.id(name), agent=session.id(agent))["task"]
    assert (task["status"], task["agentId"]) == ("assigned", session.id(agent))


@when(parsers.re(r"I start the task " + NAME))
def start_task(session: Session, name: str) -> None:
    assert session.must(START, task=session.id(name))["task"]["status"] == "running"


@when(parsers.re(r"I complete the task " + NAME))
def complete_task(session: Session, name: str) -> None:
    assert session.must(COMPLETE, task=session.id(name))["task"]["status"] == "completed"


@when(parsers.re(r"I try to complete the task " + NAME))
def try_to_complete(session: Session, name: str) -> None:
    session.send(COMPLETE, session.role, task=session.id(name))


@then(
    parsers.re(
        r"the task " + NAME + r' shows completed by "(?P<agent>[^"]+)"'
        r" at (?P<progress>\d+)% progress"
    )
)
def task_completed(session: Session, name: str, agent: str, progress: str) -> None:
    task = session.read(READ_TASK, id=session.id(name))
    assert task == {
        "status": "completed",
        "agentId": session.id(agent),
        "progress": int(progress),
    }


@then(parsers.re(r"the task " + NAME + r" shows (?P<status>\w+) with no agent"))
def task_without_agent(session: Session, name: str, status: str) -> None:
    task = session.read(READ_TASK, id=session.id(name))
    assert (task["status"], task["agentId"]) == (status, None), task


# --- proposals ----------------------------------------------------------------------


@when(
    parsers.re(
        r'"(?P<proposer>[^"]+)" proposes ' + NAME + r' to "(?P<swarm>[^"]+)"'
        r" by (?P<protocol>\w+) vote"
    )
)
def propose(session: Session, proposer: str, name: str, swarm: str, protocol: str) -> None:
    proposal = session.must(
        PROPOSE,
        name,
        swarm=session.id(swarm),
        proposer=session.id(proposer),
        title=name,
        protocol=protocol,
    )["proposal"]
    assert proposal["status"] == "open"
    session.proposal = name
    members = session.read(READ_SWARM, id=session.id(swarm))["members"]
    assert sorted(proposal["participants"]) == sorted(m["agentId"] for m in members)


@when(parsers.re(r'"(?P<voter>[^"]+)" votes (?P<choice>yes|no) on ' + NAME))
def vote(session: Session, voter: str, choice: str, name: str) -> None:
    payload = session.must(
        VOTE, proposal=session.id(name), voter=session.id(voter), approve=choice == "yes"
    )
    assert payload["proposal"]["id"] == session.id(name)


@then(
    parsers.re(
        r"the proposal " + NAME + r" shows (?P<status>\w+)"
        r" with (?P<approvals>\d+) for and (?P<rejections>\d+) against"
    )
)
def proposal_shows(
    session: Session, name: str, status: str, approvals: str, rejections: str
) -> None:
    proposal = session.read(READ_PROPOSAL, id=session.id(name))
    found = (proposal["status"], proposal["approvals"], proposal["rejections"])
    assert found == (status, int(approvals), int(rejections)), proposal
    assert session.payload["proposal"]["status"] == status, "the vote's own answer agrees"


@then(parsers.re(r"the proposal " + NAME + r" shows open with the votes of " + NAMES))
def proposal_open(session: Session, name: str, names: str) -> None:
    """An open proposal tallies nothing yet; its votes are there, in the order cast."""
    proposal = session.read(READ_PROPOSAL, id=session.id(name))
    assert proposal["status"] == "open", proposal
    voters = [session.name_of(v["voterId"]) for v in proposal["votes"]]
    assert voters == quoted(names), proposal
    assert session.payload["proposal"]["status"] == "open", "the vote's own answer agrees"


@then(parsers.re(r"its votes were cast by " + NAMES + r" in that order"))
def votes_cast_by(session: Session, names: str) -> None:
    votes = session.read(READ_PROPOSAL, id=session.id(session.proposal))["votes"]
    assert [(session.name_of(v["voterId"]), v["approve"]) for v in votes] == [
        (name, True) for name in quoted(names)
    ]


# --- refusals -----------------------------------------------------------------------


@then(parsers.re(r'the API refuses it with "(?P<code>[A-Z_]+)"'))
def refused_with(session: Session, code: str) -> None:
    payload = session.payload
    assert [e["code"] for e in payload["errors"]] == [code], payload["errors"]
    assert payload["position"] is None, "a refused command has no position"
    entities = [payload[k] for k in ENTITIES if k in payload]
    assert entities == [None], payload


@then(parsers.re(r'the query is refused with "(?P<code>[A-Z_]+)"'))
def query_refused_with(session: Session, code: str) -> None:
    errors = session.body.get("errors") or []
    assert [e.get("extensions", {}).get("code") for e in errors] == [code], session.body


def _written_since(session: Session) -> list[str]:
    """The types of the events in the log after the last write this session saw."""
    body = session.api.graphql(LOG, {"after": session.head or 0}, role="viewer")
    assert "errors" not in body, body
    return [node["type"] for node in body["data"]["eventLog"]["nodes"]]


@then("the only event written since is the record of the refusal")
def only_the_refusal(session: Session) -> None:
    assert _written_since(session) == ["AccessRefusal.Recorded"]


@then("no event has been written since")
def nothing_written(session: Session) -> None:
    assert _written_since(session) == []
