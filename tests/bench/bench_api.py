"""The HTTP API against plain baselines measured in the same run, in the same process.

Reads: GraphQL `agents` and filtered `tasks` pages against plain FastAPI JSON routes
mounted in the same app for the benchmark only. Both run the same read-model query
(one row more than the page, as GraphQL does for `hasNextPage`) in a worker thread
and return the same fields; GraphQL adds parsing, validation, the bearer token, the
resolvers and its response shape. One keep-alive client sends the two kinds of
request in turn, so drift in the machine touches both alike.
Writes: `spawnAgent` over HTTP (on the seeded store) against `SpawnAgent` handled by
the bus directly, in this process, on a fresh store of the same kind; the median of
ROUNDS runs each. The served process runs its projection worker and neural trainer
during the mutations, as `swarmlog serve` does; the bus baseline has neither. A second
mutation figure is an API replica as the compose stack runs it (`--no-worker`, the
trainer elsewhere) on a fresh store of the same kind.

Run: `make bench-api` (the embedded SQLite default; `--postgres` adds PostgreSQL at
127.0.0.1:5432).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from adapters.settings import Settings
from api.app import create_app
from api.runtime import Runtime, start
from application.bootstrap import Swarmlog, bootstrap
from application.commands import (
    AssignTask,
    CancelTask,
    CompleteTask,
    CreateTask,
    FailTask,
    SpawnAgent,
    StartTask,
)
from projections.queries.agents import list_agents
from projections.queries.tasks import list_tasks
from tests.bench.common import (
    console,
    fresh_read_models,
    fresh_settings,
    median,
    rate,
    report,
)
from tests.support.server import embedded_settings, free_port

AGENTS = 500
TASKS = 2000
WARM_UP = 50
REQUESTS = 500
MUTATIONS = 300
ROUNDS = 3
PAGE = 50
PRIORITIES = ("critical", "high", "normal", "low", "background")
FATES = ("queued", "assigned", "running", "completed", "failed", "cancelled")
STATUS, PRIORITY = "running", "high"
"""The filter of the tasks page: about TASKS / 30 tasks match, more than a page."""

AGENT_FIELDS = {
    "agent_id": "id",
    "name": "name",
    "agent_type": "agentType",
    "capabilities": "capabilities",
    "state": "state",
    "load": "load",
    "max_load": "maxLoad",
    "completed_count": "completedCount",
    "failed_count": "failedCount",
    "success_rate": "successRate",
    "swarm_id": "swarmId",
    "version": "version",
}
TASK_FIELDS = {
    "task_id": "id",
    "description": "description",
    "task_type": "taskType",
    "priority": "priority",
    "required_capabilities": "requiredCapabilities",
    "status": "status",
    "agent_id": "agentId",
    "swarm_id": "swarmId",
    "progress": "progress",
    "retries": "retries",
    "max_retries": "maxRetries",
    "assignment_strategy": "assignmentStrategy",
    "assignment_score": "assignmentScore",
    "duration_seconds": "durationSeconds",
    "version": "version",
}
AGENTS_QUERY = f"""
query Agents($first: Int!) {{
  agents(first: $first) {{
    nodes {{ {" ".join(AGENT_FIELDS.values())} }} pageInfo {{ endCursor hasNextPage }}
  }}
}}
"""
TASKS_QUERY = f"""
query Tasks($first: Int!, $status: String, $priority: String) {{
  tasks(first: $first, status: $status, priority: $priority) {{
    nodes {{ {" ".join(TASK_FIELDS.values())} }} pageInfo {{ endCursor hasNextPage }}
  }}
}}
"""
SPAWN = """
mutation Spawn($name: String!) {
  spawnAgent(name: $name, agentType: "coder", capabilities: ["python"], maxLoad: 5) {
    agent { id } position errors { code }
  }
}
"""


def page(views: list[Any], fields: dict[str, str], key: str) -> dict[str, Any]:
    """The first PAGE views with the fields GraphQL selects, and the page's cursor."""
    rows = views[:PAGE]
    return {
        "nodes": [{f: getattr(v, f) for f in fields} for v in rows],
        "page_info": {
            "end_cursor": getattr(rows[-1], key) if rows else None,
            "has_next_page": len(views) > PAGE,
        },
    }


def bench_app(runtime: Runtime) -> FastAPI:
    """The real app over ``runtime``, plus the baseline routes: two reads, one spawn."""
    app = create_app(runtime=runtime)
    engine = runtime.runner.engine

    @app.get("/bench/agents")
    def bench_agents() -> dict[str, Any]:
        return page(list_agents(engine, limit=PAGE + 1), AGENT_FIELDS, "agent_id")

    @app.post("/bench/spawn")
    def bench_spawn(body: dict[str, str]) -> dict[str, Any]:
        command = SpawnAgent(
            name=body["name"], agent_type="coder", capabilities=["python"], max_load=5
        )
        result = runtime.swarmlog.handle(command, actor="bench")
        return {"agent": {"id": str(result.aggregate_id)}, "position": result.position}

    @app.get("/bench/tasks")
    def bench_tasks(status: str | None = None, priority: str | None = None) -> dict[str, Any]:
        views = list_tasks(engine, status=status, priority=priority, limit=PAGE + 1)
        return page(views, TASK_FIELDS, "task_id")

    return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn in a thread of this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def seed(swarmlog: Swarmlog) -> int:
    """AGENTS agents and TASKS tasks through the bus, every (status, priority) pair
    about equally often; returns the head of the log."""
    handle = swarmlog.handle
    agents = [
        handle(
            SpawnAgent(
                name=f"agent-{i}",
                agent_type=("coder", "reviewer", "tester")[i % 3],
                capabilities=["python"],
                max_load=10,
            )
        ).aggregate_id
        for i in range(AGENTS)
    ]
    for i in range(TASKS):
        task = handle(
            CreateTask(
                description=f"task {i}",
                task_type="code",
                priority=PRIORITIES[i % len(PRIORITIES)],
                required_capabilities=["python"],
            )
        ).aggregate_id
        fate = FATES[i % len(FATES)]
        if fate == "cancelled":
            handle(CancelTask(task_id=task, reason="bench"))
        if fate in ("queued", "cancelled"):
            continue
        handle(AssignTask(task_id=task, agent_id=agents[i % AGENTS]))
        if fate == "assigned":
            continue
        handle(StartTask(task_id=task))
        if fate == "completed":
            handle(CompleteTask(task_id=task, result="ok"))
        elif fate == "failed":
            handle(FailTask(task_id=task, error="bench"))
    return swarmlog.store.head()


def caught_up(runtime: Runtime, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while any(row["lag"] for row in runtime.runner.status()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the projections did not catch up: {runtime.runner.status()}")
        time.sleep(0.05)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000


def latencies(
    client: httpx.Client, requests: dict[str, Callable[[], httpx.Response]]
) -> dict[str, tuple[float, float]]:
    """p50 and p99 of each request, sent in turn (the order rotating) REQUESTS times."""
    names = list(requests)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(WARM_UP + REQUESTS):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            started = time.perf_counter()
            response = requests[name]()
            elapsed = time.perf_counter() - started
            check(response)
            if i >= WARM_UP:
                samples[name].append(elapsed)
    return {name: percentiles(values) for name, values in samples.items()}


def check(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if "errors" in body:
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body


def same_answer(graphql: dict[str, Any], baseline: dict[str, Any], fields: dict[str, str]) -> None:
    """The two routes return the same page (else the comparison means nothing)."""
    nodes = [{field: node[name] for field, name in fields.items()} for node in graphql["nodes"]]
    plain = [{f: list(v) if isinstance(v, list) else v for f, v in n.items()} for n in nodes]
    if plain != baseline["nodes"] or len(plain) != PAGE:
        raise RuntimeError("GraphQL and the baseline returned different pages")


def reads(url: str, token: str) -> dict[str, tuple[float, float]]:
    headers = {"Authorization": f"Bearer {token}"}
    task_filter = {"status": STATUS, "priority": PRIORITY}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:

        def graphql(query: str, **variables: Any) -> Callable[[], httpx.Response]:
            body = {"query": query, "variables": {"first": PAGE, **variables}}
            return lambda: client.post("/graphql", json=body)

        requests: dict[str, Callable[[], httpx.Response]] = {
            "graphql agents": graphql(AGENTS_QUERY),
            "plain agents": lambda: client.get("/bench/agents"),
            "graphql tasks": graphql(TASKS_QUERY, **task_filter),
            "plain tasks": lambda: client.get("/bench/tasks", params=task_filter),
        }
        same_answer(
            check(requests["graphql agents"]())["data"]["agents"],
            check(requests["plain agents"]()),
            AGENT_FIELDS,
        )
        same_answer(
            check(requests["graphql tasks"]())["data"]["tasks"],
            check(requests["plain tasks"]()),
            TASK_FIELDS,
        )
        return latencies(client, requests)


def mutations(url: str, token: str, *, plain_route: bool = True) -> tuple[float, float]:
    """spawnAgent mutations per second, sequential, over one keep-alive client; and,
    with ``plain_route``, the same through the plain route (no GraphQL, no token),
    rounds taken in turn (else 0.0)."""
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:

        def graphql(count: int, prefix: str) -> None:
            for i in range(count):
                payload = check(
                    client.post(
                        "/graphql",
                        json={"query": SPAWN, "variables": {"name": f"{prefix}-{i}"}},
                    )
                )["data"]["spawnAgent"]
                if payload["errors"]:
                    raise RuntimeError(f"spawnAgent refused: {payload['errors']}")

        def plain(count: int, prefix: str) -> None:
            for i in range(count):
                client.post("/bench/spawn", json={"name": f"{prefix}-{i}"}).raise_for_status()

        runs = {"graphql": graphql, **({"plain": plain} if plain_route else {})}
        rates: dict[str, list[float]] = {name: [] for name in runs}
        for name, run in runs.items():
            run(WARM_UP, f"{name}-warm")
        for r in range(ROUNDS):
            for name, run in runs.items():
                rates[name].append(rate(MUTATIONS, partial(run, MUTATIONS, f"{name}{r}")))
        return median(rates["graphql"]), median(rates["plain"]) if plain_route else 0.0


def bus_spawns(settings: Settings) -> float:
    """SpawnAgent commands per second through the bus, wired as the API wires it."""
    swarmlog = bootstrap(settings)
    try:

        def run(count: int, prefix: str) -> None:
            for i in range(count):
                swarmlog.handle(
                    SpawnAgent(
                        name=f"{prefix}-{i}",
                        agent_type="coder",
                        capabilities=["python"],
                        max_load=5,
                    ),
                    actor="bench",
                )

        run(WARM_UP, "warm")
        return median([rate(MUTATIONS, partial(run, MUTATIONS, f"bus{r}")) for r in range(ROUNDS)])
    finally:
        swarmlog.close()


def replica_spawns(settings: Settings) -> float:
    """spawnAgent mutations per second on an API replica as the compose stack runs it:
    no projection worker and no neural trainer in its process (they run elsewhere)."""
    runtime = start(settings, worker=False, neural=False)
    try:
        with serving(bench_app(runtime)) as url:
            token = runtime.tokens.issue("bench", "admin")
            return mutations(url, token, plain_route=False)[0]
    finally:
        runtime.stop()


@contextmanager
def stores(kind: str) -> Iterator[tuple[Settings, Settings, Settings]]:
    """Settings of three fresh, empty stores of ``kind`` (events and read models)."""
    with ExitStack() as stack:
        if kind == "sqlite":
            folders = [Path(stack.enter_context(tempfile.TemporaryDirectory())) for _ in "abc"]
            yield tuple(embedded_settings(folder) for folder in folders)  # type: ignore[misc]
            return
        made = []
        for _ in "abc":
            base = stack.enter_context(fresh_settings("postgres"))
            url = stack.enter_context(fresh_read_models("postgres"))
            made.append(base.model_copy(update={"read_model_url": url}))
        yield made[0], made[1], made[2]


def measure(kind: str) -> list[list[object]]:
    with stores(kind) as (served, spare, replica):
        runtime = start(served)
        try:
            started = time.perf_counter()
            head = seed(runtime.swarmlog)
            caught_up(runtime)
            console.print(
                f"[dim]{kind}: seeded {head:,} events ({AGENTS} agents, {TASKS} tasks) "
                f"and caught up in {time.perf_counter() - started:.1f} s[/dim]"
            )
            with serving(bench_app(runtime)) as url:
                token = runtime.tokens.issue("bench", "admin")
                read = reads(url, token)
                over_http, plain_route = mutations(url, token)
                on_bus = bus_spawns(spare)
        finally:
            runtime.stop()
        on_replica = replica_spawns(replica)
    tasks_label = f"tasks({STATUS}, {PRIORITY}, first: {PAGE})"
    labels = {"agents": f"agents(first: {PAGE})", "tasks": tasks_label}
    rows: list[list[object]] = []
    for what, label in labels.items():
        ours, plain = read[f"graphql {what}"], read[f"plain {what}"]
        for i, stat in enumerate(("p50", "p99")):
            rows.append(
                [
                    f"{kind}: {label} {stat} ms",
                    round(ours[i], 2),
                    round(plain[i], 2),
                    round(ours[i] / plain[i], 2),
                ]
            )
    rows.append(
        [
            f"{kind}: spawnAgent per s (baseline: bus)",
            round(over_http, 1),
            round(on_bus, 1),
            round(over_http / on_bus, 2),
        ]
    )
    rows.append(
        [
            f"{kind}: spawnAgent per s (baseline: plain HTTP route to the bus)",
            round(over_http, 1),
            round(plain_route, 1),
            round(over_http / plain_route, 2),
        ]
    )
    rows.append(
        [
            f"{kind}: spawnAgent per s, replica without worker (baseline: bus)",
            round(on_replica, 1),
            round(on_bus, 1),
            round(on_replica / on_bus, 2),
        ]
    )
    return rows


def main() -> None:
    kinds = ["sqlite", "postgres"] if "--postgres" in sys.argv[1:] else ["sqlite"]
    rows = [row for kind in kinds for row in measure(kind)]
    report(
        f"HTTP API vs plain baselines ({REQUESTS} requests after {WARM_UP} warm-up, "
        f"{MUTATIONS} mutations, median of {ROUNDS})",
        ["measurement", "swarmlog", "baseline", "ratio"],
        rows,
        "api.json",
    )


if __name__ == "__main__":
    main()
