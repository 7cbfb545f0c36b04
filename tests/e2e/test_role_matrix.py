"""Who may call what, over the real HTTP API: every mutation and every protected query
against every kind of caller, and the audit record each refusal leaves in the log.

A caller without a valid token (none, a malformed header, a garbage, expired, tampered
or unsigned token) is UNAUTHENTICATED; a valid one is allowed exactly when its role
grants the operation's permission, FORBIDDEN otherwise. Each refusal appends exactly
one event to the log, an ``AccessRefusal.Recorded``; an allowed call appends none.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest

from tests.support.server import Api, embedded_settings, running_api

REFUSALS = ("UNAUTHENTICATED", "FORBIDDEN")
REFUSAL_TOPIC = "AccessRefusal.Recorded"
ANONYMOUS = "anonymous"

_VIEWER = (
    "agent:read",
    "swarm:read",
    "task:read",
    "proposal:read",
    "expertise:read",
    "metrics:read",
    "events:read",
    "neural:read",
)
GRANTS: dict[str, tuple[str, ...]] = {
    "viewer": _VIEWER,
    "operator": (*_VIEWER, "agent:*", "swarm:*", "task:*", "proposal:*"),
    "admin": ("*",),
}
"""The roles as specified, written out here independently of ``adapters.auth.ROLES``."""

RID = str(uuid4())
"""An id nothing has: authorisation is decided before anything is looked up."""


# -- the operations ------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    field: str
    permission: str
    document: str
    entity: str | None = None
    """The payload's entity field (mutations only; None for a query)."""

    @property
    def is_mutation(self) -> bool:
        return self.entity is not None


def mutation(field: str, permission: str, args: str, entity: str) -> Operation:
    arguments = f"({args})" if args else ""
    selection = f"{{ {entity} {{ __typename }} errors {{ code message }} }}"
    document = f"mutation {{ {field}{arguments} {selection} }}"
    return Operation(field, permission, document, entity)


def query(field: str, permission: str, args: str, selection: str) -> Operation:
    arguments = f"({args})" if args else ""
    return Operation(field, permission, f"query {{ {field}{arguments} {selection} }}")


MUTATIONS = [
    mutation(
        "spawnAgent",
        "agent:spawn",
        'name: "matrix", agentType: "coder", capabilities: ["python"]',
        "agent",
    ),
    mutation(
        "transitionAgent", "agent:transition", f'agentId: "{RID}", toState: "paused"', "agent"
    ),
    mutation("pauseAgent", "agent:pause", f'agentId: "{RID}"', "agent"),
    mutation("resumeAgent", "agent:resume", f'agentId: "{RID}"', "agent"),
    mutation("terminateAgent", "agent:terminate", f'agentId: "{RID}"', "agent"),
    mutation("initSwarm", "swarm:init", 'name: "matrix", topology: "mesh"', "swarm"),
    mutation("joinSwarm", "swarm:join", f'swarmId: "{RID}", agentId: "{RID}"', "swarm"),
    mutation("leaveSwarm", "swarm:leave", f'swarmId: "{RID}", agentId: "{RID}"', "swarm"),
    mutation("scaleSwarm", "swarm:scale", f'swarmId: "{RID}", maxAgents: 5', "swarm"),
    mutation("optimizeSwarm", "swarm:optimize", f'swarmId: "{RID}"', "swarm"),
    mutation("shutdownSwarm", "swarm:shutdown", f'swarmId: "{RID}"', "swarm"),
    mutation(
        "changeSwarmStrategy",
        "swarm:strategy",
        f'swarmId: "{RID}", strategy: "balanced"',
        "swarm",
    ),
    mutation("createTask", "task:create", 'description: "matrix", taskType: "code"', "task"),
    mutation("assignTask", "task:assign", f'taskId: "{RID}", agentId: "{RID}"', "task"),
    mutation("startTask", "task:start", f'taskId: "{RID}"', "task"),
    mutation("reportTaskProgress", "task:progress", f'taskId: "{RID}", percent: 10', "task"),
    mutation("completeTask", "task:complete", f'taskId: "{RID}"', "task"),
    mutation("failTask", "task:fail", f'taskId: "{RID}"', "task"),
    mutation("retryTask", "task:retry", f'taskId: "{RID}"', "task"),
    mutation("cancelTask", "task:cancel", f'taskId: "{RID}"', "task"),
    mutation("timeOutTask", "task:timeout", f'taskId: "{RID}"', "task"),
    mutation(
        "createProposal",
        "proposal:create",
        f'swarmId: "{RID}", proposerId: "{RID}", title: "matrix", value: 1',
        "proposal",
    ),
    mutation(
        "castVote",
        "proposal:vote",
        f'proposalId: "{RID}", voterId: "{RID}", approve: true',
        "proposal",
    ),
    mutation("closeExpiredProposal", "proposal:close", f'proposalId: "{RID}"', "proposal"),
    # An unknown projection: allowed means refused for another reason, nothing rebuilt.
    mutation("rebuildProjection", "projection:rebuild", 'name: "no-such-projection"', "projection"),
    # The neural engine: with an empty log nothing trains, no such version, a path
    # outside the model directory, a missing file: allowed, and nothing written.
    mutation("trainNeuralModel", "neural:train", "full: false", "status"),
    mutation("activateNeuralModel", "neural:activate", "version: 999", "status"),
    mutation("exportNeuralModel", "neural:export", 'path: "../outside.model"', "status"),
    mutation("importNeuralModel", "neural:import", 'path: "missing.model"', "status"),
]

QUERIES = [
    query("agent", "agent:read", f'id: "{RID}"', "{ id }"),
    query("agents", "agent:read", "", "{ nodes { id } }"),
    query("swarm", "swarm:read", f'id: "{RID}"', "{ id }"),
    query("swarms", "swarm:read", "", "{ nodes { id } }"),
    query("task", "task:read", f'id: "{RID}"', "{ id }"),
    query("tasks", "task:read", "", "{ nodes { id } }"),
    query("proposal", "proposal:read", f'id: "{RID}"', "{ id }"),
    query("proposals", "proposal:read", "", "{ nodes { id } }"),
    query(
        "auditLog",
        "audit:read",
        "first: 1",
        "{ nodes { streamId eventType actor } pageInfo { endCursor hasNextPage } }",
    ),
    query("projectionStatus", "projection:read", "", "{ name state position lag }"),
    query(
        "eventLog",
        "events:read",
        "first: 1",
        "{ nodes { position streamId type } pageInfo { hasNextPage } }",
    ),
    query(
        "aggregateAt",
        "events:read",
        f'streamId: "{RID}", version: 1',
        "{ streamId type version state }",
    ),
    query("swarmMetrics", "metrics:read", f'swarmId: "{RID}"', "{ __typename }"),
    query("agentExpertise", "expertise:read", f'agentId: "{RID}"', "{ __typename }"),
    query(
        "predictTaskOutcome",
        "neural:read",
        f'taskId: "{RID}", agentId: "{RID}"',
        "{ probabilities confidence modelVersion }",
    ),
    query("recommendAgents", "neural:read", f'taskId: "{RID}", k: 2', "{ agentId probability }"),
    query("neuralStatus", "neural:read", "", "{ active history { number kind } }"),
]

OPERATIONS = MUTATIONS + QUERIES

PUBLIC_QUERIES: frozenset[str] = frozenset()
"""Query fields anyone may call without a token. None today: every query is protected
(introspection, ``__schema`` and ``__typename``, is not a field of the Query type)."""


# -- the callers ---------------------------------------------------------------------


def _b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _claims(api: Api, subject: str, role: str, issued: int, lifetime: int) -> dict[str, Any]:
    return {
        "sub": subject,
        "role": role,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": uuid4().hex,
        "iss": api.tokens.issuer,
        "aud": api.tokens.audience,
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _expired(api: Api) -> dict[str, str]:
    past = int(time.time()) - 3600
    claims = _claims(api, "expired-admin", "admin", past, 60)
    return _bearer(jwt.encode(claims, api.settings.jwt_secret, algorithm="HS256"))


def _tampered(api: Api) -> dict[str, str]:
    header, payload, signature = api.tokens.issue("mallory", "viewer").split(".")
    forged = {**_unb64url(payload), "role": "admin"}
    return _bearer(f"{header}.{_b64url(forged)}.{signature}")


def _unsigned(api: Api) -> dict[str, str]:
    claims = _claims(api, "unsigned-admin", "admin", int(time.time()), 600)
    return _bearer(f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(claims)}.")


@dataclass(frozen=True)
class Caller:
    name: str
    headers: Callable[[Api], dict[str, str]]
    role: str | None = None
    """The role of a valid token; None: no valid token at all."""

    @property
    def subject(self) -> str:
        return f"test-{self.role}" if self.role else ANONYMOUS

    def may(self, permission: str) -> bool:
        if self.role is None:
            return False
        return any(fnmatchcase(permission, granted) for granted in GRANTS[self.role])

    def expected_refusal(self, permission: str) -> str | None:
        if self.role is None:
            return "UNAUTHENTICATED"
        return None if self.may(permission) else "FORBIDDEN"


def _role(role: str) -> Caller:
    return Caller(role, lambda api: _bearer(api.token(role)), role)


CALLERS = [
    Caller("no-token", lambda api: {}),
    Caller("malformed-header", lambda api: {"Authorization": "Basic dGVzdDp0ZXN0"}),
    Caller("garbage-token", lambda api: _bearer("not.a.jwt")),
    Caller("expired-token", _expired),
    Caller("tampered-token", _tampered),
    Caller("alg-none-token", _unsigned),
    _role("viewer"),
    _role("operator"),
    _role("admin"),
]


# -- the log -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    stream_id: str
    topic: str
    state: dict[str, Any]


def _decode(state: bytes) -> dict[str, Any]:
    try:
        decoded: dict[str, Any] = json.loads(state)
    except (UnicodeDecodeError, json.JSONDecodeError):
        decoded = json.loads(zlib.decompress(state))
    return decoded


class EventLog:
    """The SQLite event store, read-only, from the side."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])

    def newest(self, n: int) -> list[StoredEvent]:
        """The ``n`` newest events, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT originator_id, topic, state FROM stored_events ORDER BY rowid DESC LIMIT ?",
                (n,),
            ).fetchall()
        return [StoredEvent(str(sid), topic, _decode(state)) for sid, topic, state in rows[::-1]]

    def refusals(self) -> int:
        with self._connect() as conn:
            found = conn.execute(
                "SELECT COUNT(*) FROM stored_events WHERE topic LIKE ?", (f"%{REFUSAL_TOPIC}",)
            ).fetchone()
        return int(found[0])


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One server for the whole matrix: each case measures the log around its request."""
    with running_api(embedded_settings(tmp_path_factory.mktemp("role-matrix"))) as server:
        yield server


@pytest.fixture(scope="module")
def log(api: Api) -> EventLog:
    return EventLog(api.settings.sqlite_path)


# -- the matrix ----------------------------------------------------------------------


def _refusal_of(operation: Operation, response: Any) -> str | None:
    """The refusal code of the response, None when it was let through; fails on an
    answer that is neither (a GraphQL validation error, a missing field, ...)."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    if operation.is_mutation:
        assert "errors" not in body, body
        payload = body["data"][operation.field]
        codes = [error["code"] for error in payload["errors"]]
        if codes and codes[0] in REFUSALS:
            assert payload[operation.entity] is None, payload
            return str(codes[0])
        assert not set(codes) & set(REFUSALS), payload
        return None
    errors = body.get("errors") or []
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    assert None not in codes, f"an error without a code: {body}"
    if codes and codes[0] in REFUSALS:
        assert (body.get("data") or {}).get(operation.field) is None, body
        return str(codes[0])
    assert not set(codes) & set(REFUSALS), body
    return None


def _operation_names(field: str) -> set[str]:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in field)
    return {field, snake}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.field)
def test_each_caller_is_let_through_exactly_when_its_role_grants_the_permission(
    api: Api, log: EventLog, operation: Operation, caller: Caller
) -> None:
    expected = caller.expected_refusal(operation.permission)
    before, refusals_before = log.count(), log.refusals()

    response = api.post(operation.document, headers=caller.headers(api))

    refused = _refusal_of(operation, response)
    assert refused == expected, response.text
    if expected is None:
        assert log.refusals() == refusals_before, "an allowed call recorded a refusal"
        if not operation.is_mutation:
            assert log.count() == before, "a query wrote to the log"
        return
    assert log.count() == before + 1, "a refusal appends exactly one event"
    (event,) = log.newest(1)
    assert event.topic.endswith(REFUSAL_TOPIC), event
    assert event.state.get("actor") == caller.subject, event.state
    assert event.state.get("code") == expected, event.state
    assert event.state.get("permission") == operation.permission, event.state
    assert event.state.get("operation") in _operation_names(operation.field), event.state


def test_the_table_covers_every_mutation_and_every_protected_query(api: Api) -> None:
    body = api.graphql(
        "{ __schema { mutationType { fields { name } } queryType { fields { name } } } }"
    )
    assert "errors" not in body, body
    schema = body["data"]["__schema"]
    mutations = {f["name"] for f in schema["mutationType"]["fields"]}
    queries = {f["name"] for f in schema["queryType"]["fields"]}
    tabled_mutations = {op.field for op in MUTATIONS}
    tabled_queries = {op.field for op in QUERIES}

    assert mutations - tabled_mutations == set(), "mutations missing from the matrix"
    assert tabled_mutations - mutations == set(), "mutations in the matrix, not in the schema"
    assert queries - tabled_queries - PUBLIC_QUERIES == set(), "queries neither tabled nor public"
    assert tabled_queries - queries == set(), "queries in the matrix, not in the schema"
    assert not tabled_queries & PUBLIC_QUERIES


def test_the_matrix_is_well_formed() -> None:
    fields = [op.field for op in OPERATIONS]
    assert len(fields) == len(set(fields)), "an operation is tabled twice"
    for op in OPERATIONS:
        assert re.fullmatch(r"[a-z]+:[a-z]+", op.permission), op


def test_a_public_query_answers_without_a_token(api: Api, log: EventLog) -> None:
    for field in sorted(PUBLIC_QUERIES):
        before = log.count()
        body = api.post(f"query {{ {field} }}", headers={}).json()
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        assert not set(codes) & set(REFUSALS), body
        assert log.count() == before


def test_the_audit_log_shows_a_refusal_with_its_actor(api: Api, log: EventLog) -> None:
    subject = f"audit-probe-{uuid4().hex[:8]}"
    headers = _bearer(api.tokens.issue(subject, "viewer"))
    before = log.count()
    refused = api.post(
        'mutation { initSwarm(name: "nope", topology: "mesh") { swarm { id } errors { code } } }',
        headers=headers,
    ).json()
    assert refused["data"]["initSwarm"]["errors"][0]["code"] == "FORBIDDEN"
    assert log.count() == before + 1
    (recorded,) = log.newest(1)

    audit = """
    query($actor: String, $type: String) {
      auditLog(first: 50, actor: $actor, eventType: $type) {
        nodes { streamId version eventType actor correlationId causationId occurredAt }
        pageInfo { endCursor hasNextPage }
      }
    }
    """
    variables = {"actor": subject, "type": REFUSAL_TOPIC}
    deadline = time.monotonic() + 60
    while True:
        body = api.graphql(audit, variables, role="admin")
        assert "errors" not in body, body
        nodes = body["data"]["auditLog"]["nodes"]
        if nodes or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(nodes) == 1, body
    (entry,) = nodes
    assert UUID(entry["streamId"]) == UUID(recorded.stream_id)
    assert (entry["eventType"], entry["actor"], entry["version"]) == (REFUSAL_TOPIC, subject, 1)
    assert entry["correlationId"]
    assert entry["occurredAt"]


def test_the_audit_log_itself_is_refused_to_an_operator_and_that_is_recorded(
    api: Api, log: EventLog
) -> None:
    before = log.count()
    body = api.graphql("{ auditLog(first: 1) { nodes { streamId } } }", role="operator")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert log.count() == before + 1
    (event,) = log.newest(1)
    assert event.topic.endswith(REFUSAL_TOPIC)
    assert (event.state.get("actor"), event.state.get("permission")) == (
        "test-operator",
        "audit:read",
    )


def test_several_refusals_in_one_request_record_one_event_each(api: Api, log: EventLog) -> None:
    before = log.count()
    document = f"""
    mutation {{
      a: pauseAgent(agentId: "{RID}") {{ agent {{ id }} errors {{ code }} }}
      b: startTask(taskId: "{RID}") {{ task {{ id }} errors {{ code }} }}
    }}
    """
    body = api.post(document, headers={}).json()
    assert [body["data"][k]["errors"][0]["code"] for k in ("a", "b")] == ["UNAUTHENTICATED"] * 2
    assert log.count() == before + 2
    permissions = [e.state.get("permission") for e in log.newest(2)]
    assert permissions == ["agent:pause", "task:start"]
