"""Agents through the real HTTP API: mutations, read-your-writes queries, roles, health."""

from __future__ import annotations

import httpx

from tests.support.server import Api

SPAWN = """
mutation Spawn($name: String!, $caps: [String!]!) {
  spawnAgent(name: $name, agentType: "coder", capabilities: $caps, maxLoad: 2) {
    agent { id name state load maxLoad capabilities }
    position
    errors { code message field }
  }
}
"""
AGENTS = """
query Agents($atLeast: Position, $after: String) {
  agents(first: 2, atLeast: $atLeast, after: $after) {
    nodes { id name state }
    pageInfo { endCursor hasNextPage }
  }
}
"""


def test_an_operator_spawns_an_agent_and_reads_it_back_once_visible(api: Api) -> None:
    body = api.graphql(SPAWN, {"name": "ada", "caps": ["Python", "sql"]}, role="operator")
    payload = body["data"]["spawnAgent"]
    assert payload["errors"] == []
    assert payload["agent"]["state"] == "ready"
    assert payload["agent"]["capabilities"] == ["python", "sql"]
    listed = api.graphql(AGENTS, {"atLeast": payload["position"]}, role="viewer")
    assert [n["name"] for n in listed["data"]["agents"]["nodes"]] == ["ada"]


def test_pages_of_agents_have_no_gaps_or_duplicates(api: Api) -> None:
    for name in ("a", "b", "c", "d", "e"):
        last = api.graphql(SPAWN, {"name": name, "caps": ["x"]})["data"]["spawnAgent"]
    seen, after = [], None
    while True:
        page = api.graphql(AGENTS, {"atLeast": last["position"], "after": after})["data"]["agents"]
        seen += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == ["a", "b", "c", "d", "e"]
    assert len(seen) == 5


def test_a_viewer_may_not_spawn_and_only_the_refusal_is_written(api: Api) -> None:
    before = api.graphql(SPAWN, {"name": "first", "caps": ["x"]})["data"]["spawnAgent"]["position"]
    refused = api.graphql(SPAWN, {"name": "nope", "caps": ["x"]}, role="viewer")
    assert refused["data"]["spawnAgent"]["errors"][0]["code"] == "FORBIDDEN"
    after = api.graphql(SPAWN, {"name": "second", "caps": ["x"]})["data"]["spawnAgent"]["position"]
    # a spawn writes 3 events; the refused one wrote only its refusal record
    assert after == before + 1 + 3


def test_without_a_token_a_mutation_is_unauthenticated_and_a_query_too(api: Api) -> None:
    refused = api.graphql(SPAWN, {"name": "nope", "caps": ["x"]}, role=None)
    assert refused["data"]["spawnAgent"]["errors"][0]["code"] == "UNAUTHENTICATED"
    query = api.graphql(AGENTS, {}, role=None)
    assert query["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_bad_input_is_refused_with_the_field_at_fault(api: Api) -> None:
    body = api.graphql(SPAWN, {"name": "x" * 500, "caps": ["python"]})
    error = body["data"]["spawnAgent"]["errors"][0]
    assert (error["code"], error["field"]) == ("VALIDATION", "name")


def test_health_readiness_and_metrics_answer(api: Api) -> None:
    assert httpx.get(f"{api.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{api.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"event_store": True, "read_models": True}
    api.graphql(SPAWN, {"name": "counted", "caps": ["x"]})
    metrics = httpx.get(f"{api.url}/metrics").text
    assert 'swarmlog_commands_total{command="SpawnAgent",outcome="ok"} 1.0' in metrics
    assert "swarmlog_projection_lag_events" in metrics


def test_an_agent_mutation_answers_the_agents_swarm_when_asked_for_it(api: Api) -> None:
    """The swarm is read from the read model only when the selection asks for it,
    directly or through a fragment; the answer is the same either way."""
    agent = api.graphql(SPAWN, {"name": "ada", "caps": ["python"]})["data"]["spawnAgent"]
    swarm = api.graphql('mutation { initSwarm(name: "hive", topology: "mesh") { swarm { id } } }')
    swarm_id = swarm["data"]["initSwarm"]["swarm"]["id"]
    joined = api.graphql(
        "mutation($s: ID!, $a: ID!) { joinSwarm(swarmId: $s, agentId: $a) { position } }",
        {"s": swarm_id, "a": agent["agent"]["id"]},
    )["data"]["joinSwarm"]
    api.graphql(AGENTS, {"atLeast": joined["position"]})  # the read model has the member
    pause = 'mutation($a: ID!) { pauseAgent(agentId: $a, reason: "r") { %s } }'
    documents = {
        "direct": pause % "agent { swarmId }",
        "fragment": pause % "agent { ...Where }" + " fragment Where on Agent { swarmId }",
        "inline": pause % "... on AgentPayload { agent { ... on Agent { swarmId } } }",
        "not asked": pause % "agent { name }",
    }
    answers = {}
    for how, document in documents.items():
        body = api.graphql(document, {"a": agent["agent"]["id"]})
        assert "errors" not in body, body
        answers[how] = body["data"]["pauseAgent"]["agent"]
        api.graphql(
            "mutation($a: ID!) { resumeAgent(agentId: $a) { position } }",
            {"a": agent["agent"]["id"]},
        )
    assert answers == {
        "direct": {"swarmId": swarm_id},
        "fragment": {"swarmId": swarm_id},
        "inline": {"swarmId": swarm_id},
        "not asked": {"name": "ada"},
    }
