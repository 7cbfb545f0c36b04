"""The event log, time travel, the audit log, metrics, expertise and projection admin
through the real HTTP API."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tests.e2e.test_work_api import COMPLETE, CREATE, INIT, JOIN, SPAWN, START
from tests.support.server import Api

EVENT_LOG = """
query Log($after: Position, $to: Position, $streams: [ID!], $types: [String!], $first: Int) {
  eventLog(after: $after, toPosition: $to, streamIds: $streams, types: $types, first: $first) {
    nodes { position streamId version type actor correlationId causationId payload }
    pageInfo { endPosition hasNextPage }
  }
}
"""
AT = """
query At($stream: ID!, $version: Int, $at: DateTime) {
  aggregateAt(streamId: $stream, version: $version, at: $at) { streamId type version state }
}
"""


def ok(body: dict[str, Any], name: str) -> Any:
    assert "errors" not in body, body
    payload = body["data"][name]
    if isinstance(payload, dict) and payload.get("errors"):
        raise AssertionError(payload["errors"])
    return payload


def spawn(api: Api, name: str) -> tuple[str, int]:
    payload = ok(api.graphql(SPAWN, {"name": name}, role="operator"), "spawnAgent")
    return payload["agent"]["id"], payload["position"]


def test_the_event_log_filters_by_stream_type_and_position(api: Api) -> None:
    first, _ = spawn(api, "ada")
    second, head = spawn(api, "bob")
    whole = ok(api.graphql(EVENT_LOG, {}, role="viewer"), "eventLog")
    assert [n["position"] for n in whole["nodes"]] == list(range(1, head + 1))
    assert whole["nodes"][0]["type"] == "Agent.Spawned"
    assert whole["nodes"][0]["actor"] == "test-operator"
    assert whole["nodes"][0]["payload"]["name"] == "ada"

    of_second = ok(api.graphql(EVENT_LOG, {"streams": [second]}, role="viewer"), "eventLog")
    assert {n["streamId"] for n in of_second["nodes"]} == {second}
    assert [n["version"] for n in of_second["nodes"]] == [1, 2, 3]

    spawned = ok(api.graphql(EVENT_LOG, {"types": ["Agent.Spawned"]}, role="viewer"), "eventLog")
    assert [n["streamId"] for n in spawned["nodes"]] == [first, second]

    page = ok(api.graphql(EVENT_LOG, {"after": 2, "to": 4, "first": 1}), "eventLog")
    assert [n["position"] for n in page["nodes"]] == [3]
    assert page["pageInfo"] == {"endPosition": 3, "hasNextPage": True}

    unknown = api.graphql(EVENT_LOG, {"types": ["Agent.Exploded"]}, role="viewer")
    assert unknown["errors"][0]["extensions"]["code"] == "VALIDATION"
    bad = api.graphql(EVENT_LOG, {"streams": ["not-a-uuid"]}, role="viewer")
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION"


def test_time_travel_shows_an_aggregate_at_each_version_and_moment(api: Api) -> None:
    agent, _ = spawn(api, "ada")
    task = ok(api.graphql(CREATE, {"description": "t"}, role="operator"), "createTask")["task"]
    before_assign = datetime.now(UTC)
    time.sleep(0.01)
    assign = (
        "mutation($t: ID!, $a: ID!) { assignTask(taskId: $t, agentId: $a) { errors { code } } }"
    )
    assert api.graphql(assign, {"t": task["id"], "a": agent})["data"]["assignTask"]["errors"] == []
    ok(api.graphql(START, {"task": task["id"]}), "startTask")
    ok(api.graphql(COMPLETE, {"task": task["id"]}), "completeTask")

    now = ok(api.graphql(AT, {"stream": task["id"]}, role="viewer"), "aggregateAt")
    assert (now["type"], now["state"]["status"]) == ("Task", "completed")
    first = ok(api.graphql(AT, {"stream": task["id"], "version": 1}), "aggregateAt")
    assert (first["version"], first["state"]["status"]) == (1, "created")
    then = {"stream": task["id"], "at": before_assign.isoformat()}
    assert ok(api.graphql(AT, then), "aggregateAt")["state"]["status"] == "queued"
    assert ok(api.graphql(AT, then), "aggregateAt")["state"]["agent_id"] is None

    too_far = api.graphql(AT, {"stream": task["id"], "version": 99})
    assert too_far["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    before_all = api.graphql(AT, {"stream": task["id"], "at": "2000-01-01T00:00:00Z"})
    assert before_all["errors"][0]["extensions"]["code"] == "NOT_FOUND"


AUDIT = """
query Audit($actor: String, $type: String, $after: String, $at: Position) {
  auditLog(actor: $actor, eventType: $type, after: $after, first: 2, atLeast: $at) {
    nodes { streamId version eventType actor detail } pageInfo { endCursor hasNextPage }
  }
}
"""


def test_the_audit_log_shows_actors_and_refusals_and_is_for_admins(api: Api) -> None:
    refused = api.graphql(SPAWN, {"name": "nope"}, role="viewer")["data"]["spawnAgent"]
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    _, position = spawn(api, "ada")
    refusals = ok(
        api.graphql(AUDIT, {"type": "AccessRefusal.Recorded", "at": position}), "auditLog"
    )
    (entry,) = refusals["nodes"]
    assert entry["actor"] == "test-viewer"
    assert entry["detail"].startswith("FORBIDDEN agent:spawn on spawnAgent")

    by_operator = ok(api.graphql(AUDIT, {"actor": "test-operator"}), "auditLog")
    assert len(by_operator["nodes"]) == 2
    assert by_operator["pageInfo"]["hasNextPage"]
    rest = api.graphql(
        AUDIT, {"actor": "test-operator", "after": by_operator["pageInfo"]["endCursor"]}
    )
    assert [n["version"] for n in ok(rest, "auditLog")["nodes"]] == [3]

    denied = api.graphql(AUDIT, {}, role="operator")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_metrics_expertise_and_projection_status(api: Api) -> None:
    agent, _ = spawn(api, "ada")
    swarm = ok(api.graphql(INIT, role="operator"), "initSwarm")["swarm"]["id"]
    ok(api.graphql(JOIN, {"swarm": swarm, "agent": agent}), "joinSwarm")
    created = ok(api.graphql(CREATE, {"description": "t"}), "createTask")
    metrics_query = """query($s: ID!, $at: Position) { swarmMetrics(swarmId: $s, atLeast: $at) {
      swarmId tasksCreated points { tasksCreated } } }"""
    metrics = ok(
        api.graphql(metrics_query, {"s": swarm, "at": created["position"]}, role="viewer"),
        "swarmMetrics",
    )
    assert metrics["swarmId"] == swarm
    assert metrics["tasksCreated"] == 0  # the task was created outside the swarm

    expertise_query = """query($a: ID!, $at: Position) { agentExpertise(agentId: $a, atLeast: $at) {
      votesCast accuracy expertise } }"""
    expertise = ok(
        api.graphql(expertise_query, {"a": agent, "at": created["position"]}, role="viewer"),
        "agentExpertise",
    )
    assert expertise["votesCast"] == 0
    assert expertise["accuracy"] == 0.5

    status_query = "{ projectionStatus { name state position head lag } }"
    rows = ok(api.graphql(status_query), "projectionStatus")
    assert {r["name"] for r in rows} >= {"agents", "tasks", "swarms", "audit"}
    assert api.graphql(status_query, role="operator")["errors"][0]["extensions"]["code"] == (
        "FORBIDDEN"
    )


REBUILD = """mutation($name: String!) { rebuildProjection(name: $name) {
  started projection { name state } errors { code message } } }"""


def test_an_admin_rebuilds_a_projection_and_readers_see_the_same_data(api: Api) -> None:
    for name in ("ada", "bob", "cy"):
        _, position = spawn(api, name)
    query = "query($at: Position) { agents(atLeast: $at) { nodes { id name state } } }"
    before = ok(api.graphql(query, {"at": position}), "agents")
    rebuilt = ok(api.graphql(REBUILD, {"name": "agents"}), "rebuildProjection")
    assert rebuilt["projection"]["name"] == "agents"
    deadline = time.monotonic() + 30
    status_query = "{ projectionStatus { name state generation } }"
    while True:
        rows = ok(api.graphql(status_query), "projectionStatus")
        (row,) = [r for r in rows if r["name"] == "agents"]
        if row["state"] == "running" and row["generation"] > 1:
            break
        assert time.monotonic() < deadline, row
        time.sleep(0.05)
    assert ok(api.graphql(query, {"at": position}), "agents") == before

    unknown = api.graphql(REBUILD, {"name": "nope"})["data"]["rebuildProjection"]
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    denied = api.graphql(REBUILD, {"name": "agents"}, role="operator")["data"]
    assert denied["rebuildProjection"]["errors"][0]["code"] == "FORBIDDEN"
