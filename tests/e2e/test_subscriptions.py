"""Subscriptions over a real websocket (graphql-transport-ws)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.e2e.test_work_api import CREATE, SPAWN, START
from tests.support.server import Api

PROTOCOL = "graphql-transport-ws"


@contextmanager
def session(api: Api, token: str | None) -> Iterator[ClientConnection]:
    with connect(api.ws_url, subprotocols=[PROTOCOL], open_timeout=10) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        yield ws


def subscribe(ws: ClientConnection, query: str, variables: dict[str, Any] | None = None) -> None:
    message = {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
    ws.send(json.dumps(message))


def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return message


EVENTS = """subscription($after: Position, $types: [String!]) {
  events(after: $after, types: $types) { position streamId version type actor payload }
}"""


def test_the_event_feed_delivers_a_mutations_events_live(api: Api) -> None:
    with session(api, api.token("viewer")) as ws:
        subscribe(ws, EVENTS)
        # no event comes before the mutation: the feed starts at the head
        spawned = api.graphql(SPAWN, {"name": "ada"}, role="operator")["data"]["spawnAgent"]
        agent, position = spawned["agent"]["id"], spawned["position"]
        received = [receive(ws) for _ in range(3)]
    assert {m["type"] for m in received} == {"next"}
    events = [m["payload"]["data"]["events"] for m in received]
    assert [e["position"] for e in events] == [position - 2, position - 1, position]
    assert [e["type"] for e in events] == [
        "Agent.Spawned",
        "Agent.Transitioned",
        "Agent.Transitioned",
    ]
    assert {e["streamId"] for e in events} == {agent}
    assert events[0]["actor"] == "test-operator"
    assert events[0]["payload"]["name"] == "ada"


def test_the_feed_replays_from_a_past_position_then_goes_on_live(api: Api) -> None:
    first = api.graphql(SPAWN, {"name": "ada"})["data"]["spawnAgent"]["position"]
    with session(api, api.token("viewer")) as ws:
        subscribe(ws, EVENTS, {"after": 0, "types": ["Agent.Spawned"]})
        past = receive(ws)["payload"]["data"]["events"]
        assert (past["position"], past["payload"]["name"]) == (first - 2, "ada")
        api.graphql(SPAWN, {"name": "bob"})
        live = receive(ws)["payload"]["data"]["events"]
    assert live["payload"]["name"] == "bob"
    assert live["position"] > first


def test_a_task_subscription_sees_the_task_after_each_change(api: Api) -> None:
    task = api.graphql(CREATE, {"description": "t"})["data"]["createTask"]["task"]["id"]
    agent = api.graphql(SPAWN, {"name": "ada"})["data"]["spawnAgent"]["agent"]["id"]
    query = """subscription($id: ID!) {
      taskChanged(id: $id) { event { type version } task { id status agentId version } } }"""
    with session(api, api.token("viewer")) as ws:
        subscribe(ws, query, {"id": task})
        assign = "mutation($t: ID!, $a: ID!) { assignTask(taskId: $t, agentId: $a) { position } }"
        api.graphql(assign, {"t": task, "a": agent})
        assigned = receive(ws)["payload"]["data"]["taskChanged"]
        api.graphql(START, {"task": task})
        started = receive(ws)["payload"]["data"]["taskChanged"]
    assert assigned["event"]["type"] == "Task.Assigned"
    assert (assigned["task"]["status"], assigned["task"]["agentId"]) == ("assigned", agent)
    assert started["event"]["type"] == "Task.Started"
    assert (started["task"]["status"], started["task"]["version"]) == (
        "running",
        started["event"]["version"],
    )


def refusal(ws: ClientConnection) -> str:
    """The code of the error that ends a subscription (and that it then completes)."""
    message = receive(ws)
    assert message["type"] == "next", message
    assert message["payload"]["data"] is None
    code: str = message["payload"]["errors"][0]["extensions"]["code"]
    assert receive(ws)["type"] == "complete"
    return code


def test_a_subscription_needs_a_token_and_the_permission(api: Api) -> None:
    with session(api, None) as ws:
        subscribe(ws, EVENTS)
        assert refusal(ws) == "UNAUTHENTICATED"
    with session(api, "not-a-token") as ws:
        subscribe(ws, EVENTS)
        assert refusal(ws) == "UNAUTHENTICATED"
    with session(api, api.token("viewer")) as ws:
        subscribe(ws, EVENTS, {"types": ["Agent.Exploded"]})
        assert refusal(ws) == "VALIDATION"
    with session(api, api.token("viewer")) as ws:
        subscribe(
            ws, "subscription($id: ID!) { agentChanged(id: $id) { agent { id } } }", {"id": "nope"}
        )
        assert refusal(ws) == "VALIDATION"
