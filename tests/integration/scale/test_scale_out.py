"""Scale-out with real processes: two API replicas (uvicorn, `swarmlog serve --no-worker`)
and two projection workers (`swarmlog worker`) on one PostgreSQL event store and one
PostgreSQL read-model database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from adapters.auth import TokenService
from adapters.settings import Settings
from tests.conftest import postgres_read_model_url
from tests.support.server import free_port

pytestmark = pytest.mark.postgres

SWARMLOG = str(Path(sys.executable).with_name("swarmlog"))
SPAWN = """mutation($n: String!) { spawnAgent(name: $n, agentType: "coder",
  capabilities: ["python"], maxLoad: 5) { agent { id } position errors { code } } }"""


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.05)


@dataclass
class Cluster:
    env: dict[str, str]
    tokens: TokenService
    logs: Path
    apis: dict[str, tuple[int, subprocess.Popen[bytes]]] = field(default_factory=dict)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen([SWARMLOG, *args], env=self.env, stdout=log, stderr=log)

    def start_api(self, name: str, port: int | None = None) -> None:
        port = port or free_port()
        process = self._spawn(name, "serve", "--port", str(port), "--no-worker")
        self.apis[name] = (port, process)

        def healthy() -> bool:
            assert process.poll() is None, (self.logs / f"{name}.log").read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success
            except httpx.TransportError:
                return False

        wait_for(healthy, 60, f"API {name} answering")

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn(f"worker-{len(self.workers)}", "worker", "--poll", "0.05")
        self.workers.append(worker)
        return worker

    def graphql(
        self, api: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        port, _ = self.apis[api]
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.tokens.issue('tester', 'admin')}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]

    def kill_api(self, name: str) -> int:
        port, process = self.apis.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return port

    def owners(self) -> dict[str, str | None]:
        rows = self.graphql("a", "{ projectionStatus { name owner lag } }")["projectionStatus"]
        return {row["name"]: row["owner"] for row in rows}

    def stop(self) -> None:
        for process in [*(p for _, p in self.apis.values()), *self.workers]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*(p for _, p in self.apis.values()), *self.workers]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def cluster(postgres: dict[str, Any], tmp_path: Path) -> Iterator[Cluster]:
    events, reads = f"t_{uuid.uuid4().hex[:12]}", f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(autocommit=True, **postgres) as conn:
        for schema in (events, reads):
            conn.execute(f"CREATE SCHEMA {schema}")
    env = {
        **os.environ,
        "SWARMLOG_EVENT_STORE": "postgres",
        "SWARMLOG_POSTGRES_DBNAME": str(postgres["dbname"]),
        "SWARMLOG_POSTGRES_HOST": str(postgres["host"]),
        "SWARMLOG_POSTGRES_PORT": str(postgres["port"]),
        "SWARMLOG_POSTGRES_USER": str(postgres["user"]),
        "SWARMLOG_POSTGRES_SCHEMA": events,
        "READ_MODEL_URL": postgres_read_model_url(reads),
    }
    cluster = Cluster(env, TokenService(Settings()), tmp_path)
    try:
        cluster.start_api("a")
        cluster.start_api("b")
        cluster.start_worker()
        cluster.start_worker()
        yield cluster
    finally:
        cluster.stop()
        with psycopg.connect(autocommit=True, **postgres) as conn:
            for schema in (events, reads):
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_concurrent_mutations_through_both_replicas_lose_nothing(cluster: Cluster) -> None:
    def spawn(i: int) -> dict[str, Any]:
        payload: dict[str, Any] = cluster.graphql("ab"[i % 2], SPAWN, {"n": f"agent-{i}"})
        return payload["spawnAgent"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        spawned = list(pool.map(spawn, range(60)))
    assert all(s["errors"] == [] for s in spawned)
    ids = {s["agent"]["id"] for s in spawned}
    assert len(ids) == 60
    head = max(s["position"] for s in spawned)

    # one task, offered to ten agents at once through both replicas: exactly one wins
    task = cluster.graphql(
        "a", 'mutation { createTask(description: "t", taskType: "code") { task { id } } }'
    )["createTask"]["task"]["id"]
    assign = """mutation($t: ID!, $a: ID!) { assignTask(taskId: $t, agentId: $a) {
      task { agentId } errors { code } } }"""
    agents = sorted(ids)[:10]

    def offer(i: int) -> dict[str, Any]:
        payload: dict[str, Any] = cluster.graphql("ab"[i % 2], assign, {"t": task, "a": agents[i]})
        return payload["assignTask"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        offers = list(pool.map(offer, range(10)))
    winners = [o for o in offers if not o["errors"]]
    assert len(winners) == 1
    assert {o["errors"][0]["code"] for o in offers if o["errors"]} <= {
        "INVALID_TRANSITION",
        "CONFLICT",
    }

    # every agent the replicas said they spawned is in the log and in the read model
    log = cluster.graphql(
        "b", '{ eventLog(types: ["Agent.Spawned"], first: 1000) { nodes { streamId } } }'
    )["eventLog"]["nodes"]
    assert sorted(n["streamId"] for n in log) == sorted(ids)
    read = cluster.graphql(
        "b", "query($at: Int) { agents(first: 200, atLeast: $at) { nodes { id } } }", {"at": head}
    )["agents"]["nodes"]
    assert {n["id"] for n in read} == ids
    task_now = cluster.graphql("a", f'{{ aggregateAt(streamId: "{task}") {{ state }} }}')
    assert task_now["aggregateAt"]["state"]["agent_id"] == winners[0]["task"]["agentId"]


def test_when_the_active_worker_is_killed_the_other_takes_over(cluster: Cluster) -> None:
    cluster.graphql("a", SPAWN, {"n": "first"})
    wait_for(lambda: all(cluster.owners().values()), 30, "every projection claimed")
    owners = set(cluster.owners().values())
    pids = {worker.pid: worker for worker in cluster.workers}
    victims = [pid for pid in pids if any(o and o.endswith(f":{pid}") for o in owners)]
    assert victims, owners
    for pid in victims:
        pids[pid].send_signal(signal.SIGKILL)
        pids[pid].wait(timeout=30)
    survivors = [pid for pid in pids if pid not in victims]
    if not survivors:  # both held some: start a fresh one to take everything over
        survivors = [cluster.start_worker().pid]

    killed_at = time.monotonic()
    wait_for(
        lambda: all(
            any(o and o.endswith(f":{pid}") for pid in survivors) for o in cluster.owners().values()
        ),
        15,
        "the surviving worker taking over every projection",
    )
    took_over = time.monotonic() - killed_at
    position = cluster.graphql("b", SPAWN, {"n": "after"})["spawnAgent"]["position"]
    agents = cluster.graphql(
        "b", "query($at: Int) { agents(atLeast: $at) { nodes { name } } }", {"at": position}
    )["agents"]["nodes"]
    assert {n["name"] for n in agents} == {"first", "after"}
    assert took_over < 15


def test_a_replica_that_restarts_serves_the_same_data(cluster: Cluster) -> None:
    positions = [
        cluster.graphql("a", SPAWN, {"n": f"agent-{i}"})["spawnAgent"]["position"] for i in range(5)
    ]
    query = "query($at: Int) { agents(atLeast: $at) { nodes { id name state version } } }"
    before = cluster.graphql("a", query, {"at": max(positions)})
    port = cluster.kill_api("a")
    cluster.start_api("a", port)
    assert cluster.graphql("a", query, {"at": max(positions)}) == before
    assert cluster.graphql("b", query, {"at": max(positions)}) == before
