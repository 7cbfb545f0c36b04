"""Swarms, tasks and proposals through the real HTTP API: a whole session, then roles."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.support.server import Api

SPAWN = """
mutation Spawn($name: String!) {
  spawnAgent(name: $name, agentType: "coder", capabilities: ["python"], maxLoad: 2) {
    agent { id } position errors { code message }
  }
}
"""
INIT = """
mutation { initSwarm(name: "hive", topology: "mesh") {
  swarm { id topology status } position errors { code message }
} }
"""
JOIN = """
mutation Join($swarm: ID!, $agent: ID!) { joinSwarm(swarmId: $swarm, agentId: $agent) {
  swarm { memberCount leaderId members { agentId position depth } } position errors { code }
} }
"""
TASK_FIELDS = """
task { id status agentId swarmId progress assignmentStrategy } position errors { code }
"""
CREATE = f"""
mutation Create($description: String!) {{
  createTask(description: $description, taskType: "code", requiredCapabilities: ["python"]) {{
    {TASK_FIELDS}
  }}
}}
"""
ASSIGN = f"""
mutation Assign($task: ID!, $swarm: ID!) {{
  assignTask(taskId: $task, strategy: "capability", swarmId: $swarm) {{ {TASK_FIELDS} }}
}}
"""
START = f"mutation Start($task: ID!) {{ startTask(taskId: $task) {{ {TASK_FIELDS} }} }}"
PROGRESS = f"""
mutation Progress($task: ID!) {{
  reportTaskProgress(taskId: $task, percent: 50) {{ {TASK_FIELDS} }}
}}
"""
COMPLETE = f"""
mutation Complete($task: ID!) {{ completeTask(taskId: $task, result: "done") {{ {TASK_FIELDS} }} }}
"""
PROPOSE = """
mutation Propose($swarm: ID!, $proposer: ID!, $value: JSON!) {
  createProposal(swarmId: $swarm, proposerId: $proposer, title: "adopt", value: $value,
                 protocol: "majority") {
    proposal { id status participants } position errors { code message }
  }
}
"""
VOTE = """
mutation Vote($proposal: ID!, $voter: ID!) {
  castVote(proposalId: $proposal, voterId: $voter, approve: true) {
    proposal { status outcome votes { voterId approve phase } } position errors { code message }
  }
}
"""
READ = """
query Read($swarm: ID!, $task: ID!, $proposal: ID!, $atLeast: Position) {
  swarm(id: $swarm, atLeast: $atLeast) {
    name topology memberCount members { agentId position parentId depth }
  }
  task(id: $task, atLeast: $atLeast) { status progress agentId swarmId assignmentStrategy }
  proposal(id: $proposal, atLeast: $atLeast) {
    status outcome approvals value votes { voterId approve phase }
  }
  swarms(first: 5, atLeast: $atLeast) { nodes { id memberCount } pageInfo { hasNextPage } }
  tasks(status: "completed", atLeast: $atLeast) { nodes { id } }
  proposals(swarmId: $swarm, atLeast: $atLeast) { nodes { id status } }
}
"""


def _ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    assert payload["errors"] == [], payload["errors"]
    return payload


def test_an_operator_runs_a_swarm_a_task_and_a_proposal_end_to_end(api: Api) -> None:
    def op(query: str, field: str, **variables: Any) -> dict[str, Any]:
        return _ok(api.graphql(query, variables, role="operator"), field)

    agents = [op(SPAWN, "spawnAgent", name=n)["agent"]["id"] for n in ("ada", "bob", "cy")]
    swarm = op(INIT, "initSwarm")["swarm"]["id"]
    for agent in agents:
        joined = op(JOIN, "joinSwarm", swarm=swarm, agent=agent)["swarm"]
    assert joined["memberCount"] == 3
    assert [m["position"] for m in joined["members"]] == [0, 1, 2]

    task = op(CREATE, "createTask", description="write it")["task"]["id"]
    assigned = op(ASSIGN, "assignTask", task=task, swarm=swarm)["task"]
    assert (assigned["status"], assigned["assignmentStrategy"]) == ("assigned", "capability")
    assert assigned["agentId"] in agents
    op(START, "startTask", task=task)
    assert op(PROGRESS, "reportTaskProgress", task=task)["task"]["progress"] == 50
    done = op(COMPLETE, "completeTask", task=task)
    assert done["task"]["status"] == "completed"

    created = op(PROPOSE, "createProposal", swarm=swarm, proposer=agents[0], value={"x": [1]})
    proposal = created["proposal"]["id"]
    assert sorted(created["proposal"]["participants"]) == sorted(agents)
    for voter in agents[:2]:
        voted = op(VOTE, "castVote", proposal=proposal, voter=voter)
    assert voted["proposal"]["status"] == "accepted"

    variables = {
        "swarm": swarm,
        "task": task,
        "proposal": proposal,
        "atLeast": voted["position"],
    }
    read = api.graphql(READ, variables, role="viewer")
    assert "errors" not in read, read
    data = read["data"]
    assert data["swarm"]["memberCount"] == 3
    assert sorted(m["agentId"] for m in data["swarm"]["members"]) == sorted(agents)
    assert data["task"]["status"] == "completed"
    assert data["task"]["progress"] == 100
    assert data["task"]["agentId"] in agents
    assert data["proposal"]["status"] == "accepted"
    assert data["proposal"]["value"] == {"x": [1]}
    assert [(v["voterId"], v["approve"]) for v in data["proposal"]["votes"]] == [
        (agents[0], True),
        (agents[1], True),
    ]
    assert [n["memberCount"] for n in data["swarms"]["nodes"]] == [3]
    assert [n["id"] for n in data["tasks"]["nodes"]] == [task]
    assert data["proposals"]["nodes"] == [{"id": proposal, "status": "accepted"}]


def test_a_viewer_may_not_create_a_task_and_only_the_refusal_is_written(api: Api) -> None:
    def create(role: str) -> dict[str, Any]:
        body = api.graphql(CREATE, {"description": "t"}, role=role)
        payload: dict[str, Any] = body["data"]["createTask"]
        return payload

    first = create("operator")["position"]
    second = create("operator")["position"]
    refused = create("viewer")
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    assert (refused["task"], refused["position"]) == (None, None)
    third = create("operator")["position"]
    assert third - second == second - first + 1, "the refused create wrote its refusal only"


def test_an_unknown_task_is_not_found(api: Api) -> None:
    unknown = str(uuid4())
    refused = api.graphql(START, {"task": unknown}, role="operator")["data"]["startTask"]
    assert refused["errors"][0]["code"] == "NOT_FOUND"
    assert refused["task"] is None
    read = api.graphql("query($id: ID!) { task(id: $id) { id } }", {"id": unknown}, role="viewer")
    assert read["data"]["task"] is None


def test_a_failure_reported_as_permanent_cannot_be_retried(api: Api) -> None:
    agent = api.graphql(SPAWN, {"name": "ada"})["data"]["spawnAgent"]["agent"]["id"]
    task = api.graphql(CREATE, {"description": "t"})["data"]["createTask"]["task"]["id"]
    assign = "mutation($t: ID!, $a: ID!) { assignTask(taskId: $t, agentId: $a) { errors {code} } }"
    assert api.graphql(assign, {"t": task, "a": agent})["data"]["assignTask"]["errors"] == []
    api.graphql(START, {"task": task})
    fail = """mutation($t: ID!) { failTask(taskId: $t, error: "bad input", retryable: false) {
      task { status } errors { code } } }"""
    assert api.graphql(fail, {"t": task})["data"]["failTask"]["task"]["status"] == "failed"
    retry = "mutation($t: ID!) { retryTask(taskId: $t) { errors { code } } }"
    refused = api.graphql(retry, {"t": task})["data"]["retryTask"]["errors"]
    assert [e["code"] for e in refused] == ["INVALID_TRANSITION"]
