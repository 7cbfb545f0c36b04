"""Event logs for the benchmarks: made once with the simulator, kept under var/bench/logs."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.persistence import StoredEvent

from adapters.settings import Settings
from application.bootstrap import bootstrap
from application.simulation.config import load_config
from application.simulation.runner import simulate
from application.store import EventStore
from tests.bench.common import console

LOGS = Path("var/bench/logs")


def simulated_log(size: int) -> Path:
    """A SQLite event store holding at least ``size`` events from the simulator."""
    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / f"simulated-{size}.db"
    app = bootstrap(Settings(event_store="sqlite", sqlite_path=path))
    seed = app.store.head()
    while app.store.head() < size:
        console.print(f"simulating: {app.store.head():,} of {size:,} events")
        simulate(app, load_config(None), agents=40, tasks=4000, seed=seed)
        seed += 1
    app.close()
    return path


def copy_log(source: EventStore, target: EventStore, size: int, page: int = 2000) -> None:
    """The first ``size`` events of ``source`` into the empty ``target``, as stored."""
    copied = 0
    for start in range(1, size + 1, page):
        batch = source.recorder.select_notifications(start=start, limit=min(page, size - copied))
        if not batch:
            return
        target.recorder.insert_events(
            [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in batch]
        )
        copied += len(batch)


def prefix_log(size: int, of: Path) -> Path:
    """A SQLite event store with the first ``size`` events of another."""
    path = LOGS / f"prefix-{size}.db"
    if not path.exists():
        source = bootstrap(Settings(event_store="sqlite", sqlite_path=of))
        target = bootstrap(Settings(event_store="sqlite", sqlite_path=path))
        copy_log(source.store, target.store, size)
        source.close()
        target.close()
    return path
