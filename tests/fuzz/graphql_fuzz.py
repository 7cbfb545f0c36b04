"""Schemathesis against the live GraphQL API: no 5xx and no internal error, ever.

Run with ``python -m tests.fuzz.graphql_fuzz`` (``make fuzz-api``). The app is started on
the embedded default in a temporary directory, seeded through mutations with a few agents,
a swarm, tasks and a proposal, and then every query and mutation of the schema is sent
``--max-examples`` generated operations as an admin. Generated ids are often swapped for
ids that exist (seeded, or created by earlier generated mutations) so that resolvers get
past "not found"; ``atLeast`` is kept at or below the log's head so that a query does not
spend its whole visibility timeout waiting for a position that will never be written.

A case fails when the response has a status of 500 or more, when the connection fails,
or when it carries a GraphQL error that is internal: coded ``INTERNAL`` (the server masks
and logs its own faults so), or one without ``extensions.code`` that was raised while
executing (it has a ``path``) or whose message reads like a Python exception. Validation
and parse errors (``BAD_REQUEST``) are the client's fault and pass.
The summary lists every failure with its query; the exit status is 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import graphql
import hypothesis
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup, ServerError
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.graphql import nodes

from tests.support.server import Api, embedded_settings, running_api

DEFAULT_MAX_EXAMPLES = 50
"""Per operation and generation mode: with about 30 operations, positive and negative,
some 3,000 cases in all."""

MODES = {"positive": GenerationMode.POSITIVE, "negative": GenerationMode.NEGATIVE}

SUBSTITUTION_RATE = 0.6
"""How often an id argument is replaced by an id that exists."""

KINDS = ("agent", "swarm", "task", "proposal")

ID_ARGUMENTS = {
    "agentId": "agent",
    "voterId": "agent",
    "proposerId": "agent",
    "swarmId": "swarm",
    "taskId": "task",
    "proposalId": "proposal",
    "dependencies": "task",
}

INTERNAL_LOOKING = re.compile(
    r"Traceback|Exception|Error\b|object has no attribute|not subscriptable|NoneType"
    r"|unexpected keyword|positional argument|sqlite|psycopg|IntegrityError|OperationalError"
    r"|unsupported operand|invalid literal|codec can't|maximum recursion",
)
"""Messages of errors without a code that read like an escaped Python exception."""

CLIENT_FAULT = ("Syntax Error", "Variable ", "Argument ", "Field ", "Unknown ", "Expected ")
"""How graphql-core's parse and validation errors begin; they are never internal."""


# --- custom scalars -----------------------------------------------------------------


def _json_values() -> st.SearchStrategy[graphql.ValueNode]:
    leaves = st.one_of(
        st.text(max_size=20).map(nodes.String),
        st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.booleans().map(nodes.Boolean),
        st.just(graphql.NullValueNode()),
    )

    def containers(
        children: st.SearchStrategy[graphql.ValueNode],
    ) -> st.SearchStrategy[graphql.ValueNode]:
        pairs = st.dictionaries(
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), children
        )
        fields = pairs.map(
            lambda d: [
                graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                for k, v in d.items()
            ]
        )
        return st.one_of(st.lists(children, max_size=4).map(nodes.List), fields.map(nodes.Object))

    return st.recursive(leaves, containers, max_leaves=8)


schemathesis.graphql.scalar("JSON", _json_values())
schemathesis.graphql.scalar(
    "Position",  # 64-bit, and past it on both sides; or digits in a string
    st.one_of(
        st.integers(min_value=-(2**64), max_value=2**64).map(nodes.Int),
        st.from_regex(r"-?[0-9]{1,22}", fullmatch=True).map(nodes.String),
    ),
)


# --- the report ---------------------------------------------------------------------


@dataclass
class Finding:
    operation: str
    query: str
    status: int | None
    problem: str

    def render(self) -> str:
        status = "no response" if self.status is None else f"HTTP {self.status}"
        return f"[{self.operation}] {status}: {self.problem}\n    query: {self.query.strip()}"


@dataclass
class Report:
    operations: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    cases: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    coded_errors: dict[str, int] = field(default_factory=dict)
    client_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    writes: int = 0
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    def distinct_findings(self) -> list[Finding]:
        seen: dict[tuple[str, str], Finding] = {}
        for finding in self.findings:
            seen.setdefault((finding.operation, finding.problem), finding)
        return list(seen.values())

    def summary(self) -> str:
        queries = sum(1 for o in self.operations if o.startswith("Query."))
        lines = [
            f"operations tested: {len(self.operations)} "
            f"({queries} queries, {len(self.operations) - queries} mutations), "
            f"modes: {', '.join(self.modes)}",
            f"cases run: {self.cases} in {self.seconds:.1f} s",
            "HTTP statuses: " + ", ".join(f"{s}={n}" for s, n in sorted(self.statuses.items())),
            f"mutations that wrote events: {self.writes}",
            f"GraphQL validation/parse refusals: {self.client_errors}",
            "coded errors: "
            + (", ".join(f"{c}={n}" for c, n in sorted(self.coded_errors.items())) or "none"),
            f"server errors: {len(self.findings)} ({len(self.distinct_findings())} distinct)",
        ]
        lines += [finding.render() for finding in self.distinct_findings()]
        return "\n".join(lines)


# --- ids that exist -----------------------------------------------------------------


@dataclass
class Pool:
    """Ids of entities that exist, by kind, and the highest log position seen."""

    ids: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    head: int = 0

    def add(self, kind: str, value: Any) -> None:
        if isinstance(value, str) and value not in self.ids[kind]:
            self.ids[kind].append(value)

    def harvest(self, data: Any, report: Report | None = None) -> None:
        """Remember the ids and positions in a mutation's payloads."""
        if not isinstance(data, dict):
            return
        for payload in data.values():
            if not isinstance(payload, dict):
                continue
            position = payload.get("position")
            if isinstance(position, int):
                self.head = max(self.head, position)
                if report is not None:
                    report.writes += 1
            for kind in KINDS:
                entity = payload.get(kind)
                if isinstance(entity, dict):
                    self.add(kind, entity.get("id"))


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


class _Rewrite(graphql.Visitor):
    """Swap some generated ids for ids that exist; keep ``atLeast`` within the log."""

    def __init__(self, pool: Pool, rnd: Random) -> None:
        super().__init__()
        self.pool = pool
        self.rnd = rnd
        self.fields: list[str] = []

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, *_: Any) -> None:
        self.fields.pop()

    def _known(self, kind: str) -> str | None:
        known = self.pool.ids[kind]
        if not known or self.rnd.random() >= SUBSTITUTION_RATE:
            return None
        return self.rnd.choice(known)

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        name = node.name.value
        value = node.value
        if name == "atLeast" and isinstance(value, graphql.IntValueNode):
            if int(value.value) > self.pool.head:
                within = graphql.IntValueNode(value=str(self.rnd.randint(0, self.pool.head)))
                return graphql.ArgumentNode(name=node.name, value=within)
            return None
        kind = ID_ARGUMENTS.get(name)
        if name == "id" and self.fields and self.fields[-1] in KINDS:
            kind = self.fields[-1]
        if kind is None:
            return None
        if isinstance(value, graphql.ListValueNode):
            items: list[graphql.ValueNode] = [_string(v) for v in self.pool.ids[kind] if v]
            if items and self.rnd.random() < SUBSTITUTION_RATE:
                chosen = self.rnd.sample(items, self.rnd.randint(1, min(3, len(items))))
                return graphql.ArgumentNode(name=node.name, value=nodes.List(chosen))
            return None
        if isinstance(value, graphql.StringValueNode):
            known = self._known(kind)
            if known is not None:
                return graphql.ArgumentNode(name=node.name, value=_string(known))
        return None


def rewrite(query: str, pool: Pool, rnd: Random) -> str:
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError:
        return query  # sent as generated: the server must refuse it cleanly
    return graphql.print_ast(graphql.visit(document, _Rewrite(pool, rnd)))


# --- judging a response -------------------------------------------------------------


def internal_errors(body: Any) -> list[str]:
    """The GraphQL errors of ``body`` that look like internal errors."""
    if not isinstance(body, dict):
        return [f"the body is not a JSON object: {body!r:.300}"]
    found = []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            found.append(f"an error that is not an object: {error!r:.300}")
            continue
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if code == "INTERNAL":  # the server's own fault, masked and logged by it
            found.append(f"INTERNAL (path {error.get('path')})")
            continue
        if code:
            continue
        message = str(error.get("message", ""))
        if "path" in error or (
            INTERNAL_LOOKING.search(message) and not message.startswith(CLIENT_FAULT)
        ):
            found.append(f"{message} (path {error.get('path')})")
    return found


def _count_codes(body: Any, report: Report) -> None:
    """Tally the refusals that are fine: coded errors, user errors, validation errors."""
    if not isinstance(body, dict):
        return
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        code = (error.get("extensions") or {}).get("code")
        if code == "BAD_REQUEST" or (not code and "path" not in error):
            report.client_errors += 1
        elif code:
            report.coded_errors[code] = report.coded_errors.get(code, 0) + 1
    data = body.get("data")
    for payload in data.values() if isinstance(data, dict) else []:
        user_errors = payload.get("errors") if isinstance(payload, dict) else None
        for user_error in user_errors or []:
            code = user_error.get("code") or "(code not selected)"
            report.coded_errors[code] = report.coded_errors.get(code, 0) + 1


def _judge(case: Any, response: requests.Response, report: Report) -> list[str]:
    """What is wrong with one response (nothing, mostly)."""
    try:
        case.validate_response(response, checks=[not_a_server_error])
        failures: list[Failure] = []
    except FailureGroup as group:
        failures = list(group.exceptions)
    except Failure as failure:
        failures = [failure]
    # Schemathesis counts every error raised while executing a query as a server error;
    # only its status check is taken as it is, the GraphQL errors are judged by their code.
    problems = [
        f"{type(f).__name__}: {f.title or ''} {f.message}".strip()
        for f in failures
        if isinstance(f, ServerError)
    ]
    if response.status_code >= 500:
        return problems or [f"status {response.status_code}: {response.text[:500]}"]
    try:
        body = response.json()
    except ValueError:
        return [f"the body is not JSON: {response.text[:300]!r}"]
    _count_codes(body, report)
    return problems + internal_errors(body)


# --- seeding and running ------------------------------------------------------------

SEED_AGENT = """
mutation($name: String!) { spawnAgent(name: $name, agentType: "coder",
  capabilities: ["python", "sql"], maxLoad: 3) { agent { id } position errors { code } } }
"""
SEED_SWARM = """
mutation { initSwarm(name: "seed", topology: "mesh") {
  swarm { id } position errors { code } } }
"""
SEED_JOIN = """
mutation($swarm: ID!, $agent: ID!) { joinSwarm(swarmId: $swarm, agentId: $agent) {
  swarm { id } position errors { code } } }
"""
SEED_TASK = """
mutation($description: String!, $swarm: ID) { createTask(description: $description,
  taskType: "code", requiredCapabilities: ["python"], swarmId: $swarm) {
  task { id } position errors { code } } }
"""
SEED_ASSIGN = """
mutation($task: ID!, $agent: ID!) { assignTask(taskId: $task, agentId: $agent) {
  task { id } position errors { code } } }
"""
SEED_PROPOSAL = """
mutation($swarm: ID!, $agent: ID!) { createProposal(swarmId: $swarm, proposerId: $agent,
  title: "seed", value: {a: 1}, protocol: "majority") {
  proposal { id } position errors { code } } }
"""


def seed(api: Api, pool: Pool) -> None:
    """A few agents in a swarm, tasks (one assigned) and an open proposal."""

    def run(query: str, **variables: Any) -> None:
        body = api.graphql(query, variables, role="admin")
        assert "errors" not in body, body
        for name, payload in body["data"].items():
            assert payload["errors"] == [], (name, payload["errors"])
        pool.harvest(body["data"])

    for name in ("ada", "bob", "cy"):
        run(SEED_AGENT, name=name)
    run(SEED_SWARM)
    swarm = pool.ids["swarm"][0]
    for agent in pool.ids["agent"]:
        run(SEED_JOIN, swarm=swarm, agent=agent)
    run(SEED_TASK, description="in the swarm", swarm=swarm)
    run(SEED_TASK, description="loose", swarm=None)
    run(SEED_TASK, description="assigned", swarm=None)
    run(SEED_ASSIGN, task=pool.ids["task"][-1], agent=pool.ids["agent"][0])
    run(SEED_PROPOSAL, swarm=swarm, agent=pool.ids["agent"][0])


def fuzz_operation(
    operation: Any,
    headers: dict[str, str],
    pool: Pool,
    report: Report,
    max_examples: int,
    seed_value: int,
    mode: GenerationMode = GenerationMode.POSITIVE,
) -> None:
    label = operation.label
    if label not in report.operations:
        report.operations.append(label)

    @hypothesis.seed(seed_value)
    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=operation.as_strategy(mode), rnd=st.randoms(use_true_random=False))
    def one(case: Any, rnd: Random) -> None:
        case.body = rewrite(case.body, pool, rnd)
        report.cases += 1
        report.by_operation[label] = report.by_operation.get(label, 0) + 1
        try:
            response = case.call(headers=headers, timeout=60)
        except requests.RequestException as error:
            report.findings.append(Finding(label, case.body, None, f"{type(error).__name__}"))
            return
        report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
        problems = _judge(case, response, report)
        for problem in problems:
            report.findings.append(Finding(label, case.body, response.status_code, problem))
        if response.status_code == 200 and label.startswith("Mutation."):
            with suppress(ValueError):
                pool.harvest(response.json().get("data"), report)

    one()


@contextmanager
def _live_api(directory: Path | None) -> Iterator[Api]:
    if directory is not None:
        with running_api(embedded_settings(directory)) as api:
            yield api
        return
    with (
        tempfile.TemporaryDirectory(prefix="swarmlog-fuzz-") as tmp,
        running_api(embedded_settings(Path(tmp))) as api,
    ):
        yield api


def run_fuzz(
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    *,
    seed_value: int = 0,
    only: str | None = None,
    modes: tuple[str, ...] = tuple(MODES),
    directory: Path | None = None,
    progress: bool = False,
) -> Report:
    """Fuzz every operation (or those whose label contains ``only``) of a fresh app, with
    ``max_examples`` cases per operation in each generation mode."""
    report = Report()
    report.modes = list(modes)
    started = time.perf_counter()
    with _live_api(directory) as api:
        pool = Pool()
        seed(api, pool)
        headers = {"Authorization": f"Bearer {api.token('admin')}"}
        schema = schemathesis.graphql.from_url(f"{api.url}/graphql", headers=headers)
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                error = result.err()
                report.findings.append(Finding("schema", "", None, f"unusable: {error}"))
                continue
            operation = result.ok()
            if only and only not in operation.label:
                continue
            before = time.perf_counter()
            for mode in modes:
                fuzz_operation(
                    operation, headers, pool, report, max_examples, seed_value, MODES[mode]
                )
            if progress:
                count = report.by_operation.get(operation.label, 0)
                took = time.perf_counter() - before
                print(f"  {operation.label}: {count} cases, {took:.1f} s", flush=True)
    report.seconds = time.perf_counter() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help=f"generated operations per query or mutation (default {DEFAULT_MAX_EXAMPLES})",
    )
    parser.add_argument("--seed", type=int, default=0, help="the Hypothesis seed (default 0)")
    parser.add_argument("--only", help="fuzz only the operations whose label contains this")
    parser.add_argument(
        "--mode",
        choices=[*MODES, "all"],
        default="all",
        help="positive (valid operations), negative (invalid ones) or all (default)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="keep the server's log of GraphQL errors"
    )
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    modes = tuple(MODES) if args.mode == "all" else (args.mode,)
    if not args.verbose:
        logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    print(
        f"fuzzing the GraphQL API: {args.max_examples} examples per operation "
        f"and mode ({', '.join(modes)})",
        flush=True,
    )
    report = run_fuzz(
        args.max_examples, seed_value=args.seed, only=args.only, modes=modes, progress=True
    )
    print(report.summary())
    if args.json:
        body = {
            "operations": report.operations,
            "cases": report.cases,
            "coded_errors": report.coded_errors,
            "client_errors": report.client_errors,
            "statuses": report.statuses,
            "findings": [str(finding) for finding in report.findings],
            "seconds": report.seconds,
        }
        args.json.write_text(json.dumps(body, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
