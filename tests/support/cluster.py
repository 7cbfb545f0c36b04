"""Real swarmlog processes on PostgreSQL: API replicas (`swarmlog serve --no-worker`)
and projection workers (`swarmlog worker`), for scale-out and reliability tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from adapters.auth import TokenService
from adapters.settings import Settings
from tests.conftest import postgres_read_model_url
from tests.support.server import free_port

SWARMLOG = str(Path(sys.executable).with_name("swarmlog"))


def wait_for(
    check: Callable[[], bool],
    seconds: float,
    what: str,
    explain: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``check`` until it holds; past ``seconds`` fail, with ``explain()`` appended."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s\n{explain()}")
        time.sleep(0.05)


@dataclass
class Cluster:
    env: dict[str, str]
    tokens: TokenService
    logs: Path
    events_schema: str = ""
    read_schema: str = ""
    read_database: str | None = None
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

        wait_for(
            healthy,
            60,
            f"API {name} answering",
            explain=lambda: (self.logs / f"{name}.log").read_text(errors="replace")[-4000:],
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn(f"worker-{len(self.workers)}", "worker", "--poll", "0.05")
        self.workers.append(worker)
        return worker

    def worker_logs(self) -> str:
        """What every worker printed, for a failure message."""
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
            for log in sorted(self.logs.glob("worker-*.log"))
        )

    def url(self, api: str) -> str:
        return f"http://127.0.0.1:{self.apis[api][0]}"

    def settings(self) -> Settings:
        """The cluster's settings, as its processes read them from their environment."""
        return Settings(
            event_store="postgres",
            postgres_dbname=self.env["SWARMLOG_POSTGRES_DBNAME"],
            postgres_host=self.env["SWARMLOG_POSTGRES_HOST"],
            postgres_port=int(self.env["SWARMLOG_POSTGRES_PORT"]),
            postgres_user=self.env["SWARMLOG_POSTGRES_USER"],
            postgres_schema=self.events_schema,
            read_model_url=self.env["READ_MODEL_URL"],
        )

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


@contextmanager
def running_cluster(
    postgres: dict[str, Any],
    logs: Path,
    *,
    apis: int = 2,
    workers: int = 2,
    read_database: bool = False,
    read_wait: float | None = None,
) -> Iterator[Cluster]:
    """Fresh schemas for the events and the read models (with ``read_database``, the read
    models in a database of their own), ``apis`` replicas named a, b, ... and
    ``workers`` workers; everything stopped and dropped afterwards. ``read_wait``: the
    replicas' SWARMLOG_READ_WAIT_SECONDS (how long an ``atLeast`` query waits)."""
    events, reads = f"t_{uuid.uuid4().hex[:12]}", f"t_{uuid.uuid4().hex[:12]}"
    database = f"rm_{uuid.uuid4().hex[:12]}" if read_database else None
    with psycopg.connect(autocommit=True, **postgres) as conn:
        conn.execute(f"CREATE SCHEMA {events}")
        if database:
            conn.execute(f"CREATE DATABASE {database}")
        else:
            conn.execute(f"CREATE SCHEMA {reads}")
    if database:
        read_url = (
            f"postgresql+psycopg://{postgres['user']}@{postgres['host']}:{postgres['port']}"
            f"/{database}"
        )
    else:
        read_url = postgres_read_model_url(reads)
    env = {
        **os.environ,
        "SWARMLOG_EVENT_STORE": "postgres",
        "SWARMLOG_POSTGRES_DBNAME": str(postgres["dbname"]),
        "SWARMLOG_POSTGRES_HOST": str(postgres["host"]),
        "SWARMLOG_POSTGRES_PORT": str(postgres["port"]),
        "SWARMLOG_POSTGRES_USER": str(postgres["user"]),
        "SWARMLOG_POSTGRES_SCHEMA": events,
        "READ_MODEL_URL": read_url,
    }
    if read_wait is not None:
        env["SWARMLOG_READ_WAIT_SECONDS"] = str(read_wait)
    cluster = Cluster(env, TokenService(Settings()), logs, events_schema=events)
    cluster.read_schema = reads
    cluster.read_database = database
    try:
        for name in "abcdefgh"[:apis]:
            cluster.start_api(name)
        for _ in range(workers):
            cluster.start_worker()
        yield cluster
    finally:
        cluster.stop()
        with psycopg.connect(autocommit=True, **postgres) as conn:
            conn.execute(f"DROP SCHEMA {events} CASCADE")
            if database:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (database,),
                )
                conn.execute(f"DROP DATABASE IF EXISTS {database}")
            else:
                conn.execute(f"DROP SCHEMA {reads} CASCADE")
