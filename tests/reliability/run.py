"""`make reliability`: load, faults and hostile input against real processes on the real
PostgreSQL, then one table of what held.

Every scenario drives the same load (``tests/reliability/load.py``) through two API
replicas with two projection workers, injects its fault while the load runs, and is
then checked: the ledger against the log (nothing lost, nothing leaked) and the read
models against a rebuild from the log. The hostile-input rows run the pytest files
that try them and the schemathesis fuzzer.

    python -m tests.reliability.run [--seconds 20] [--clients 8] [--only NAME ...]

It stops and starts this machine's PostgreSQL for one scenario (pg_ctlcluster): run it
where nothing else needs the database at that moment.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from tests.conftest import PG, postgres_reachable, postgres_read_model_url
from tests.reliability.harness import Outcome, settle
from tests.reliability.load import drive
from tests.support.cluster import Cluster, running_cluster, wait_for

console = Console(width=190)
Fault = Callable[[Cluster, threading.Event], str]
"""Runs beside the load until the event is set; returns what it did, for the report."""


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault | None
    read_database: bool = False


def no_fault(cluster: Cluster, done: threading.Event) -> str:
    return "none"


def kill_workers(cluster: Cluster, done: threading.Event) -> str:
    """SIGKILL a worker every 3 s and start a new one in its place."""
    kills = 0
    rng = random.Random(3)
    while not done.wait(3):
        alive = [w for w in cluster.workers if w.poll() is None]
        victim = rng.choice(alive)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        kills += 1
        cluster.start_worker()
    return f"{kills} workers SIGKILLed"


def kill_api(cluster: Cluster, done: threading.Event) -> str:
    """SIGKILL replica a every 6 s and start it again on the same port."""
    kills = 0
    while not done.wait(6):
        port = cluster.kill_api("a")
        kills += 1
        cluster.start_api("a", port)
    return f"API replica SIGKILLed and restarted {kills} times"


def _pg_ctl(action: str) -> None:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", action]
        + (["-m", "fast"] if action == "stop" else []),
        check=True,
        capture_output=True,
    )


def stop_postgres(cluster: Cluster, done: threading.Event) -> str:
    """Stop PostgreSQL 5 s into the load for 4 s, then start it again."""
    if done.wait(5):
        return "the load ended first"
    _pg_ctl("stop")
    stopped = time.monotonic()
    time.sleep(4)
    _pg_ctl("start")
    wait_for(lambda: postgres_reachable() is None, 60, "PostgreSQL back")
    return f"PostgreSQL down for {time.monotonic() - stopped:.1f} s"


def read_only_read_models(cluster: Cluster, done: threading.Event) -> str:
    """Make the read-model database read-only 4 s into the load for 6 s."""
    database = cluster.read_database
    assert database is not None

    def set_read_only(value: str) -> None:
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"ALTER DATABASE {database} SET default_transaction_read_only = {value}")
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )

    if done.wait(4):
        return "the load ended first"
    set_read_only("on")
    time.sleep(6)
    set_read_only("off")
    return "read models read-only for 6 s"


SCENARIOS = [
    Scenario("load", no_fault),
    Scenario("workers SIGKILLed repeatedly", kill_workers),
    Scenario("API SIGKILLed and restarted", kill_api),
    Scenario("PostgreSQL stopped and started", stop_postgres),
    Scenario("read models read-only", read_only_read_models, read_database=True),
]


@dataclass
class Row:
    name: str
    clients: int
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float
    tried: str
    lost: int
    server_errors: int
    ok: bool
    detail: str = ""


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A read-model URL on an empty PostgreSQL schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield postgres_read_model_url(schema)
    finally:
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def _fault_beside(fault: Fault, cluster: Cluster) -> Iterator[list[str]]:
    done = threading.Event()
    said: list[str] = []
    thread = threading.Thread(target=lambda: said.append(fault(cluster, done)), daemon=True)
    thread.start()
    try:
        yield said
    finally:
        done.set()
        thread.join(timeout=120)


def run_scenario(scenario: Scenario, clients: int, seconds: float, logs: Path) -> Row:
    console.print(f"[bold]{scenario.name}[/]: {clients} clients for {seconds:g} s")
    with running_cluster(PG, logs, read_database=scenario.read_database) as cluster:
        urls = [cluster.url(name) for name in cluster.apis]
        with _fault_beside(scenario.fault or no_fault, cluster) as said:
            ledger = drive(
                urls,
                lambda: cluster.tokens.issue("load", "operator"),
                clients=clients,
                seconds=seconds,
            )
        settings = cluster.settings()
        with fresh_schema() as fresh:  # the same dialect as the live read models
            outcome: Outcome = settle(scenario.name, settings, fresh, ledger, clients)
    verdict = outcome.verdict
    detail = "; ".join([*said, *verdict.lost[:3], *verdict.leaked[:3]])
    if not verdict.read_models_agree:
        detail += "; read models differ from a rebuild"
    return Row(
        scenario.name,
        clients,
        ledger.seconds,
        ledger.throughput,
        ledger.p50 * 1000,
        ledger.p99 * 1000,
        f"{len(ledger.entries)} mutations / {ledger.requests} requests, "
        f"{verdict.ambiguous} ambiguous; "
        + ", ".join(f"{code} {count}" for code, count in ledger.codes.most_common(5)),
        outcome.events_lost,
        outcome.server_errors,
        outcome.ok,
        detail,
    )


def run_hostile(logs: Path) -> list[Row]:
    """The hostile-input tests (pytest) and a schemathesis run of 1000+ operations."""
    rows = []
    started = time.monotonic()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/reliability/test_hostile.py", "-p",
         "no:cacheprovider"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr
    rows.append(
        Row(
            "hostile input (JWT, bombs, votes, injection)",
            1,
            time.monotonic() - started,
            0.0,
            0.0,
            0.0,
            summary,
            0,
            0 if tests.returncode == 0 else 1,
            tests.returncode == 0,
        )
    )
    started = time.monotonic()
    out = logs / "fuzz.json"
    fuzz = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.graphql_fuzz", "--max-examples", "15",
         "--json", str(out)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    cases = report.get("cases", 0)
    findings = len(report.get("findings", [])) if report else 1
    rows.append(
        Row(
            "schemathesis GraphQL fuzz",
            1,
            time.monotonic() - started,
            cases / max(0.001, time.monotonic() - started),
            0.0,
            0.0,
            f"{cases} generated operations over {len(report.get('operations', []))} fields",
            0,
            findings,
            fuzz.returncode == 0 and cases >= 1000,
        )
    )
    return rows


def print_report(rows: list[Row]) -> None:
    table = Table(title="swarmlog reliability")
    for column in (
        "scenario", "clients", "s", "req/s", "p50 ms", "p99 ms", "tried", "events lost",
        "server errors", "held",
    ):  # fmt: skip
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.name,
            str(row.clients),
            f"{row.seconds:.0f}",
            f"{row.throughput:,.0f}" if row.throughput else "-",
            f"{row.p50_ms:,.0f}" if row.p50_ms else "-",
            f"{row.p99_ms:,.0f}" if row.p99_ms else "-",
            row.tried + (f" [{row.detail}]" if row.detail else ""),
            str(row.lost),
            str(row.server_errors),
            "[green]yes" if row.ok else "[red]NO",
        )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", nargs="*", default=None, help="scenario names (prefixes)")
    parser.add_argument("--no-hostile", action="store_true")
    args = parser.parse_args(argv)
    reason = postgres_reachable()
    if reason:
        console.print(f"[red]{reason}: the reliability harness needs the real PostgreSQL")
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        logs = Path(directory)
        for scenario in SCENARIOS:
            if args.only and not any(scenario.name.startswith(o) for o in args.only):
                continue
            rows.append(run_scenario(scenario, args.clients, args.seconds, logs))
        if not args.no_hostile and not args.only:
            rows.extend(run_hostile(logs))
    print_report(rows)
    Path("var/bench").mkdir(parents=True, exist_ok=True)
    Path("var/bench/reliability.json").write_text(
        json.dumps([row.__dict__ for row in rows], indent=2, default=str)
    )
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
