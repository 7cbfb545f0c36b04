"""Lag from commit to visible in every read model, under a sustained command rate.

PostgreSQL holds the events and the read models; a `swarmlog worker` process follows
the log (woken by LISTEN/NOTIFY) while threads issue commands at a fixed pace.
Run: `make bench-lag` (PostgreSQL at 127.0.0.1:5432).
"""

from __future__ import annotations

import bisect
import os
import statistics
import subprocess
import sys
import threading
import time
from uuid import UUID

from sqlalchemy import func, select

from application.bootstrap import bootstrap, read_side
from application.commands import CreateTask, InitSwarm, SpawnAgent
from projections import catalog
from tests.bench.common import fresh_read_models, fresh_settings, report

RATE = float(sys.argv[1]) if len(sys.argv) > 1 else 500.0
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
THREADS = 4


def main() -> None:
    with fresh_settings("postgres") as base, fresh_read_models("postgres") as url:
        settings = base.model_copy(update={"read_model_url": url})
        app = bootstrap(settings, inline_policies=False)
        runner = read_side(app)
        swarm = app.handle(InitSwarm(name="lag", topology="mesh", max_agents=1000)).aggregate_id
        env = {
            **os.environ,
            "SWARMLOG_EVENT_STORE": "postgres",
            "SWARMLOG_POSTGRES_DBNAME": settings.postgres_dbname,
            "SWARMLOG_POSTGRES_SCHEMA": settings.postgres_schema,
            "READ_MODEL_URL": url,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "--poll", "0.5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)  # the worker starts and catches up
            commits, samples = load(app, swarm, runner.engine)
        finally:
            worker.terminate()
            worker.wait()
        runner.engine.dispose()
        app.close()

    times = [t for t, _ in samples]
    reached = [c for _, c in samples]
    for i in range(1, len(reached)):
        reached[i] = max(reached[i], reached[i - 1])
    lags = []
    for position, committed in commits:
        i = bisect.bisect_left(times, committed)
        j = bisect.bisect_left(reached, position, lo=i)
        if j < len(times):
            lags.append((times[j] - committed) * 1000)
    lags.sort()
    achieved = len(commits) / SECONDS
    rows = [
        ["commands/s asked", RATE],
        ["commands/s achieved", round(achieved, 1)],
        ["commands measured", len(lags)],
        ["lag p50 (ms)", round(statistics.median(lags), 1)],
        ["lag p99 (ms)", round(lags[int(0.99 * (len(lags) - 1))], 1)],
        ["lag max (ms)", round(lags[-1], 1)],
    ]
    report(
        f"commit-to-visible lag in all 7 read models ({SECONDS:.0f} s, {THREADS} clients)",
        ["measure", "value"],
        rows,
        "projection_lag.json",
    )


def load(app, swarm: UUID, engine) -> tuple[list[tuple[int, float]], list[tuple[float, int]]]:  # type: ignore[no-untyped-def]
    commits: list[tuple[int, float]] = []
    samples: list[tuple[float, int]] = []
    done = threading.Event()
    lock = threading.Lock()
    per_thread = RATE / THREADS
    started = time.perf_counter()

    def client(n: int) -> None:
        i = 0
        while (due := started + i / per_thread) < started + SECONDS:
            time.sleep(max(0.0, due - time.perf_counter()))
            if i % 2:
                command = CreateTask(description=f"t{n}-{i}", task_type="code", swarm_id=swarm)
            else:
                command = SpawnAgent(name=f"a{n}-{i}", agent_type="coder", capabilities=["py"])
            result = app.handle(command)
            with lock:
                commits.append((result.position, time.perf_counter()))
            i += 1

    def monitor() -> None:
        with engine.connect() as conn:
            query = select(func.min(catalog.status.c.checkpoint))
            while not done.is_set():
                reached = conn.execute(query).scalar_one()
                samples.append((time.perf_counter(), reached))
                conn.rollback()
                time.sleep(0.002)

    watcher = threading.Thread(target=monitor)
    watcher.start()
    clients = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    time.sleep(2)  # let the last commands become visible
    done.set()
    watcher.join()
    return commits, samples


if __name__ == "__main__":
    main()
