"""Rebuilding every read model from a large simulated log, against (a) the
eventsourcing library's ProjectionRunner and (b) raw executemany inserts, measured in
the same run on the same stores; and the rebuild's peak memory as the log grows.

Run: `make bench-projections` (the first run simulates a 400k-event log: minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from adapters.event_store import event_store_env
from adapters.settings import Settings
from application.bootstrap import bootstrap
from application.store import EventStore
from projections.agents import AgentsProjection
from projections.database import read_model_engine
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.bench.common import fresh_read_models, fresh_settings, report
from tests.bench.library_runner import (
    LibraryAgentsProjection,
    PostgresAgentsView,
    SQLiteAgentsView,
)
from tests.bench.logs import copy_log, prefix_log, simulated_log

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BASELINE_SIZE = 50_000
BATCH = Settings().projection_batch_size
MEMORY_SIZES = (100_000, 400_000)


def rebuild_rates(store: EventStore, url: str, projections: list) -> tuple[float, float]:  # type: ignore[type-arg]
    """Log positions and applied events per second, building the read models from nothing.

    An event counts once for each read model that applies it.
    """
    engine = read_model_engine(url)
    runner = ProjectionRunner(store, engine, projections, batch_size=BATCH)
    runner.setup()
    started = time.perf_counter()
    applied = runner.catch_up()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return store.head() / elapsed, applied / elapsed


def executemany_rate(url: str, rows: int) -> float:
    """Raw rows/s: one executemany of ``rows`` small rows into a plain table."""
    engine = read_model_engine(url)
    table = Table(
        "raw_rows",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(40)),
        Column("state", String(20)),
        Column("load", Integer),
    )
    table.create(engine)
    data = [{"id": i, "name": f"agent-{i}", "state": "ready", "load": i % 5} for i in range(rows)]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(table.insert(), data)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return rows / elapsed


def library_rate(store_settings: Settings, view: str, view_path: str | None) -> float:
    """The library's ProjectionRunner building the agents view from the same store."""
    from eventsourcing.projection import ProjectionRunner as LibraryRunner

    env = event_store_env(store_settings)
    if view == "sqlite":
        env |= {
            "LIBAGENTS_PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "LIBAGENTS_SQLITE_DBNAME": str(view_path),
        }
    view_class = SQLiteAgentsView if view == "sqlite" else PostgresAgentsView
    store = EventStore(env)
    topics = list(LibraryAgentsProjection.topics)
    last = store.recorder.select_notifications(start=None, limit=1, topics=topics)
    wanted = [n.id for n in store.notifications(1, topics=topics)][-1] if last else 0
    started = time.perf_counter()
    with LibraryRunner(
        application_class=EventStore,
        projection_class=LibraryAgentsProjection,
        view_class=view_class,
        env=env,
    ) as runner:
        runner.wait(wanted, timeout=3600)
    return store.head() / (time.perf_counter() - started)


def peak_memory_mb(log: Path) -> float:
    """Peak resident memory of a process rebuilding every read model of ``log``."""
    code = (
        "import resource, sys, tempfile, pathlib\n"
        "from adapters.settings import Settings\n"
        "from application.bootstrap import bootstrap\n"
        "from projections.database import read_model_engine\n"
        "from projections.registry import all_projections\n"
        "from projections.runner import ProjectionRunner\n"
        "app = bootstrap(Settings(event_store='sqlite', sqlite_path=sys.argv[1],"
        " aggregate_cache_size=0), inline_policies=False)\n"
        "folder = tempfile.mkdtemp()\n"
        "engine = read_model_engine(f'sqlite:///{folder}/rm.db')\n"
        "runner = ProjectionRunner(app.store, engine, all_projections(), batch_size=5000)\n"
        "runner.setup(); runner.catch_up()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(log)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    big = simulated_log(max(MEMORY_SIZES))
    log = prefix_log(SIZE, big)
    small = prefix_log(BASELINE_SIZE, big)
    rows: list[list[object]] = []
    with ExitStack() as stack:
        stores = {"sqlite": bootstrap(Settings(event_store="sqlite", sqlite_path=log))}
        settings_pg = stack.enter_context(fresh_settings("postgres"))
        stores["postgres"] = bootstrap(settings_pg, inline_policies=False)
        copy_log(stores["sqlite"].store, stores["postgres"].store, SIZE)
        for kind in ("sqlite", "postgres"):
            store = stores[kind].store
            url = stack.enter_context(fresh_read_models(kind))
            ours, applied = rebuild_rates(store, url, all_projections())
            raw_url = stack.enter_context(fresh_read_models(kind))
            raw = executemany_rate(raw_url, SIZE)
            rows.append([kind, f"rebuild all 7 read models, {store.head():,} events", ours, ""])
            rows.append([kind, "the same, events applied per second (all 7)", applied, ""])
            rows.append([kind, f"raw executemany of {SIZE:,} rows", raw, round(ours / raw, 2)])

        small_pg = stack.enter_context(fresh_settings("postgres"))
        small_store = bootstrap(small_pg, inline_policies=False)
        source = bootstrap(Settings(event_store="sqlite", sqlite_path=small))
        copy_log(source.store, small_store.store, BASELINE_SIZE)
        for view in ("postgres", "sqlite"):
            url = stack.enter_context(fresh_read_models(view))
            ours, _ = rebuild_rates(small_store.store, url, [AgentsProjection()])
            view_path = stack.enter_context(fresh_read_models("sqlite")).removeprefix("sqlite:///")
            library = library_rate(small_pg, view, view_path)
            rows.append(
                [f"postgres → {view}", "agents: our runner", ours, round(ours / library, 1)]
            )
            rows.append([f"postgres → {view}", "agents: library ProjectionRunner", library, 1.0])

    memory = {size: peak_memory_mb(prefix_log(size, big)) for size in MEMORY_SIZES}
    for size, mb in memory.items():
        rows.append(["sqlite", f"rebuild peak memory at {size:,} events (MB)", mb, ""])
    report(
        "projections: rebuild throughput (log positions/s) and peak memory",
        ["store", "measure", "value", "ratio"],
        rows,
        "projections.json",
    )
    Path("var/bench/projections-memory.json").write_text(json.dumps(memory))


if __name__ == "__main__":
    main()
