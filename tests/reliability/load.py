"""A bounded load of real GraphQL traffic, and the ledger that checks nothing was lost.

``drive`` runs ``clients`` asyncio clients against one or more API addresses for a
fixed time. Each loops over a realistic mix: agents spawned and tasks created (with
idempotency keys and unique names), tasks assigned from a pool every client shares
(so assignments race), started, completed or failed, and read queries. Every
mutation and its outcome goes into a :class:`Ledger`.

A request that fails without an answer (the connection drops, the server is killed,
the database is away: ``UNAVAILABLE``) is sent again, with the same idempotency key,
to the next address. One still unanswered is *ambiguous*: it may or may not have been
applied; so is one refused after such an attempt, since the refusal may come from the
lost attempt having been applied (a command without an idempotency key cannot tell).
:func:`check` then reads the whole log and holds the ledger to it:

* every mutation that returned success has its event in the log exactly once;
* one that was refused (a coded error) left nothing;
* an ambiguous one left at most one;
* and the read models, once caught up, equal a rebuild from the log.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from application.bootstrap import Swarmlog

RETRIES = 8
TIMEOUT = 10.0

SPAWN = """mutation($n: String!, $k: String) { spawnAgent(name: $n, agentType: "coder",
  capabilities: ["python"], maxLoad: 3, idempotencyKey: $k) {
  agent { id } position errors { code } } }"""
CREATE = """mutation($d: String!, $k: String) { createTask(description: $d, taskType: "code",
  requiredCapabilities: ["python"], idempotencyKey: $k) {
  task { id } position errors { code } } }"""
ASSIGN = """mutation($t: ID!, $a: ID!) { assignTask(taskId: $t, agentId: $a) {
  task { id } position errors { code } } }"""
START = "mutation($t: ID!) { startTask(taskId: $t) { task { id } position errors { code } } }"
COMPLETE = """mutation($t: ID!) { completeTask(taskId: $t, result: "ok") {
  task { id } position errors { code } } }"""
FAIL = """mutation($t: ID!) { failTask(taskId: $t, error: "no luck") {
  task { id } position errors { code } } }"""
AGENTS = "{ agents(first: 50) { nodes { id state load } pageInfo { hasNextPage } } }"
QUEUED = '{ tasks(status: "queued", first: 50) { nodes { id priority } } }'
TASK = "query($t: ID!, $at: Position) { task(id: $t, atLeast: $at) { id status } }"

EVENT_OF = {
    "assignTask": "Task.Assigned",
    "startTask": "Task.Started",
    "completeTask": "Task.Completed",
    "failTask": "Task.Failed",
}


@dataclass
class Entry:
    operation: str
    subject: str
    """The name (spawn), description (create) or task id (the rest)."""
    outcome: str
    """ok, a refusal's code, or ambiguous."""
    entity: str | None = None


@dataclass
class Ledger:
    entries: list[Entry] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    seconds: float = 0.0
    retried: int = 0

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


@dataclass
class Shared:
    """What every client may pick from: agents and queued tasks."""

    agents: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)


class Client:
    def __init__(
        self,
        number: int,
        http: httpx.AsyncClient,
        urls: Sequence[str],
        token: Callable[[], str],
        shared: Shared,
        ledger: Ledger,
        rng: random.Random,
    ) -> None:
        self.number, self.http, self.urls, self.token = number, http, list(urls), token
        self.shared, self.ledger, self.rng = shared, ledger, rng
        self.assigned: list[str] = []
        self.running: list[str] = []
        self.sent = 0
        self.position = 0
        self.unsure = False

    async def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The response's body, trying the addresses in turn while none answers (or
        the answer is UNAVAILABLE); None when none did. ``self.unsure`` tells whether an
        attempt went unanswered: it may have been applied before the answer was lost."""
        self.unsure = False
        for attempt in range(RETRIES):
            url = self.urls[(self.number + attempt) % len(self.urls)]
            started = time.perf_counter()
            try:
                response = await self.http.post(
                    f"{url}/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {self.token()}"},
                    timeout=TIMEOUT,
                )
            except httpx.TransportError:
                self.ledger.codes["TRANSPORT"] += 1
                self.ledger.retried += 1
                self.unsure = True
                await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
                continue
            finally:
                self.ledger.requests += 1
            self.ledger.latencies.append(time.perf_counter() - started)
            if response.status_code >= 500:
                self.ledger.codes[f"HTTP {response.status_code}"] += 1
                await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
                continue
            body: dict[str, Any] = response.json()
            codes = _codes(body)
            for code in codes:
                self.ledger.codes[code] += 1
            if "UNAVAILABLE" in codes:
                self.ledger.retried += 1
                self.unsure = True
                await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
                continue
            return body
        return None

    async def mutate(
        self, operation: str, query: str, variables: dict[str, Any], subject: str
    ) -> Entry:
        body = await self.post(query, variables)
        refused = body is not None and (
            body.get("errors") or (body.get("data") or {}).get(operation, {}).get("errors")
        )
        if body is None or (refused and self.unsure):
            # no answer, or a refusal after an attempt whose answer was lost (which may
            # be the reason for the refusal: the command was applied the first time)
            entry = Entry(operation, subject, "ambiguous")
        elif body.get("errors"):
            entry = Entry(operation, subject, body["errors"][0]["extensions"]["code"])
        else:
            payload = body["data"][operation]
            if payload["errors"]:
                entry = Entry(operation, subject, payload["errors"][0]["code"])
            else:
                entity = next(v for k, v in payload.items() if k not in ("position", "errors"))
                entry = Entry(operation, subject, "ok", entity["id"])
                self.position = max(self.position, payload["position"])
        self.ledger.entries.append(entry)
        return entry

    async def step(self) -> None:
        self.sent += 1
        roll = self.rng.random()
        tag = f"c{self.number}-{self.sent}-{uuid.uuid4().hex[:6]}"
        if roll < 0.12 or len(self.shared.agents) < 3:
            entry = await self.mutate(
                "spawnAgent", SPAWN, {"n": f"agent {tag}", "k": f"spawn-{tag}"}, f"agent {tag}"
            )
            if entry.entity:
                self.shared.agents.append(entry.entity)
        elif roll < 0.30:
            entry = await self.mutate(
                "createTask", CREATE, {"d": f"task {tag}", "k": f"create-{tag}"}, f"task {tag}"
            )
            if entry.entity:
                self.shared.queued.append(entry.entity)
        elif roll < 0.45 and self.shared.queued:
            task = self.rng.choice(self.shared.queued)
            agent = self.rng.choice(self.shared.agents)
            entry = await self.mutate("assignTask", ASSIGN, {"t": task, "a": agent}, task)
            if entry.outcome == "ok":
                if task in self.shared.queued:
                    self.shared.queued.remove(task)
                self.assigned.append(task)
        elif roll < 0.55 and self.assigned:
            task = self.assigned.pop(self.rng.randrange(len(self.assigned)))
            entry = await self.mutate("startTask", START, {"t": task}, task)
            if entry.outcome == "ok":
                self.running.append(task)
        elif roll < 0.65 and self.running:
            task = self.running.pop(self.rng.randrange(len(self.running)))
            operation, query = (
                ("completeTask", COMPLETE) if self.rng.random() < 0.8 else ("failTask", FAIL)
            )
            await self.mutate(operation, query, {"t": task}, task)
        else:
            choice = self.rng.random()
            if choice < 0.4:
                await self.post(AGENTS, {})
            elif choice < 0.8:
                await self.post(QUEUED, {})
            elif self.shared.queued:
                await self.post(TASK, {"t": self.shared.queued[-1], "at": self.position})


def _codes(body: dict[str, Any]) -> list[str]:
    codes = [
        (error.get("extensions") or {}).get("code", "UNCODED") for error in body.get("errors") or []
    ]
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict):
            codes += [error.get("code", "UNCODED") for error in payload.get("errors") or []]
    return codes


async def _drive(
    urls: Sequence[str], token: Callable[[], str], clients: int, seconds: float, seed: int
) -> Ledger:
    ledger, shared = Ledger(), Shared()
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits) as http:
        deadline = time.monotonic() + seconds
        started = time.monotonic()

        async def run(number: int) -> None:
            client = Client(
                number, http, urls, token, shared, ledger, random.Random(seed * 1000 + number)
            )
            while time.monotonic() < deadline:
                await client.step()

        await asyncio.gather(*(run(n) for n in range(clients)))
        ledger.seconds = time.monotonic() - started
    return ledger


def drive(
    urls: Sequence[str],
    token: Callable[[], str],
    *,
    clients: int = 8,
    seconds: float = 10.0,
    seed: int = 1,
) -> Ledger:
    """Run the load and return its ledger."""
    return asyncio.run(_drive(urls, token, clients, seconds, seed))


@dataclass
class Verdict:
    lost: list[str]
    """Successful mutations whose event is not in the log (exactly) once."""
    leaked: list[str]
    """Refused mutations that left an event anyway, or ambiguous ones that left two."""
    ambiguous: int
    read_models_agree: bool

    @property
    def ok(self) -> bool:
        return not self.lost and not self.leaked and self.read_models_agree


def check(app: Swarmlog, ledger: Ledger, read_models_agree: bool) -> Verdict:
    """Hold the ledger to the log (see the module docstring)."""
    by_name: Counter[str] = Counter()
    per_task: Counter[tuple[str, str]] = Counter()
    for notification in app.store.notifications():
        event: Any = app.store.decode(notification)
        kind = type(event).__qualname__
        if kind == "Agent.Spawned":
            by_name[event.name] += 1
        elif kind == "Task.Created":
            by_name[event.description] += 1
        elif kind in EVENT_OF.values():
            per_task[(str(event.originator_id), kind)] += 1
    lost, leaked = [], []
    outcomes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for entry in ledger.entries:
        if entry.operation in ("spawnAgent", "createTask"):
            found = by_name[entry.subject]
            if entry.outcome == "ok" and found != 1:
                lost.append(f"{entry.operation} {entry.subject!r}: {found} in the log")
            elif entry.outcome == "ambiguous" and found > 1:
                leaked.append(f"{entry.operation} {entry.subject!r}: {found} in the log")
            elif entry.outcome not in ("ok", "ambiguous") and found:
                leaked.append(f"refused {entry.operation} {entry.subject!r} is in the log")
        else:
            outcomes[(entry.subject, EVENT_OF[entry.operation])][entry.outcome] += 1
    for (task, kind), counted in outcomes.items():
        found, ok, unsure = per_task[(task, kind)], counted["ok"], counted["ambiguous"]
        if found < ok:
            lost.append(f"{kind} of task {task}: {ok} succeeded, {found} in the log")
        if found > ok + unsure:
            leaked.append(f"{kind} of task {task}: {ok}+{unsure} sent, {found} in the log")
    ambiguous = sum(1 for entry in ledger.entries if entry.outcome == "ambiguous")
    return Verdict(lost, leaked, ambiguous, read_models_agree)
