"""Export and import of the log (JSON Lines) against the raw read of the same store.

For each store (SQLite, PostgreSQL) holding the first N events of a simulated log:

* baseline: the whole log read with ``recorder.select_notifications`` in pages of
  1000 and every notification decoded with the mapper, nothing else: events/s;
* export: ``export_log`` of the whole log to an uncompressed JSONL file: events/s and
  its ratio to the baseline (the aim is 0.6 or more). The baseline and the export run
  in turn, ROUNDS times each after one unmeasured read, and the medians are compared;
* import: ``import_log`` of that file into a fresh empty store of the same kind (a
  new SQLite file, a new PostgreSQL schema dropped afterwards), as `swarmlog replay
  import` does it (every policy marked as having seen it all): events/s (aim 20,000).

Peak memory: each measurement runs in a process of its own, which reports how far
its resident set rose above where it stood just before the export or import began
(peak RSS, VmHWM, minus current RSS, VmRSS, both from /proc/self/status). Unlike a
tracemalloc peak this counts C-level buffers too (SQLite's page cache, psycopg's
result sets, the file buffers). It is measured at 100k and 400k events on each store
of `--memory-backends` (by default those of `--backends`; on PostgreSQL it costs copying
the 100k and 400k-event logs into it, about a minute); "flat" means the 400k figure is
close to the 100k one. An import keeps each stream's last version to check the next
one: that map grows with the number of streams, not with the number of events.

The rates are wall-clock: on a machine other processes share, they wander from round
to round (the console shows every round); the medians and the interleaving of the
baseline with the export keep the ratio steadier than either rate.

Run: `make bench-replay`, or `python -m tests.bench.bench_replay --events 200000
--backends sqlite,postgres`. The logs come from tests/bench/logs.py's cache under
var/bench/logs (the first run simulates a 400k-event log: minutes). `--profile` adds
a cProfile of export_log and import_log on SQLite.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap
from application.policies.reactions import ALL_POLICIES
from application.replay.export import encode, export_log, export_records, open_for_writing
from application.replay.imports import import_log, open_for_reading
from application.store import EventStore
from tests.bench.common import console, fresh_settings, report
from tests.bench.logs import copy_log, prefix_log, simulated_log

PAGE = 1000
ROUNDS = 5
EXPORT_AIM = 0.6
IMPORT_AIM = 20_000.0
MEMORY_SIZES = (100_000, 400_000)
PROFILE_SIZE = 50_000
CONSUMERS = [policy.name for policy in ALL_POLICIES]


# ------------------------------------------------------------------ measurements
def raw_read(store: EventStore) -> int:
    """Every notification of the log, a page of PAGE at a time, decoded; how many."""
    select = store.recorder.select_notifications
    decode = store.mapper.to_domain_event
    count, start = 0, 1
    while True:
        page = select(start=start, limit=PAGE, inclusive_of_start=True)
        for notification in page:
            decode(notification)
        count += len(page)
        if len(page) < PAGE:
            return count
        start = page[-1].id + 1


def export_to(store: EventStore, path: Path) -> int:
    """The whole log exported to ``path``, uncompressed, as `swarmlog replay export` does."""
    with open_for_writing(path, compress=False) as out:
        return export_log(store, out)


def import_from(store: EventStore, path: Path) -> int:
    """``path`` imported into the empty ``store``, as `swarmlog replay import` does."""
    with open_for_reading(path) as lines:
        imported = import_log(store, lines, consumers=CONSUMERS)
    if store.head() != imported.events:
        raise AssertionError(f"imported {imported.events} events, the store holds {store.head()}")
    STREAMS.append(imported.streams)
    return imported.events


STREAMS: list[int] = []
"""How many streams each import held (the import keeps each one's last version)."""


def timed(action: Callable[[], int]) -> tuple[int, float]:
    """How many events ``action`` handled, and how many per second."""
    started = time.perf_counter()
    count = action()
    return count, count / (time.perf_counter() - started)


@contextmanager
def store_of(settings: Settings) -> Iterator[Swarmlog]:
    app = bootstrap(settings, inline_policies=False)
    try:
        yield app
    finally:
        app.close()


@contextmanager
def source_store(kind: str, log: Path, size: int) -> Iterator[Settings]:
    """Settings of a store of the kind holding the first ``size`` events of ``log``."""
    if kind == "sqlite":
        yield Settings(event_store="sqlite", sqlite_path=log)
        return
    with fresh_settings(kind) as settings:
        started = time.perf_counter()
        with (
            store_of(Settings(event_store="sqlite", sqlite_path=log)) as source,
            store_of(settings) as target,
        ):
            copy_log(source.store, target.store, size)
            held = target.store.head()
        console.print(f"{kind}: copied {held:,} events in {time.perf_counter() - started:,.0f} s")
        yield settings


def throughput(kind: str, settings: Settings, folder: Path, rounds: int) -> list[list[object]]:
    """The table's rows of the baseline, export and import rates of one store."""
    path = folder / f"{kind}.jsonl"
    with store_of(settings) as app:
        store = app.store
        events = store.head()
        raw_read(store)  # unmeasured: the pages in the caches, the mapper's topics resolved
        raws, exports = [], []
        for _ in range(rounds):
            raws.append(timed(lambda: raw_read(store))[1])
            exported, export_rate = timed(lambda: export_to(store, path))
            if exported != events:
                raise AssertionError(f"exported {exported} of {events} events")
            exports.append(export_rate)
    raw, export = statistics.median(raws), statistics.median(exports)
    megabytes = path.stat().st_size / 1e6
    console.print(
        f"{kind}: raw read {', '.join(f'{r:,.0f}' for r in raws)} events/s; "
        f"export {', '.join(f'{r:,.0f}' for r in exports)} events/s ({megabytes:,.0f} MB file)"
    )
    with fresh_settings(kind) as target_settings, store_of(target_settings) as target:
        imported, import_rate = timed(lambda: import_from(target.store, path))
    console.print(f"{kind}: import {import_rate:,.0f} events/s")
    return [
        [f"{kind} raw read/s", f"{events:,}", raw, "", "", ""],
        [
            f"{kind} export/s",
            f"{exported:,}",
            export,
            raw,
            round(export / raw, 2),
            f">= {EXPORT_AIM} x raw",
        ],
        [
            f"{kind} import/s",
            f"{imported:,}",
            import_rate,
            IMPORT_AIM,
            round(import_rate / IMPORT_AIM, 2),
            f">= {IMPORT_AIM:,.0f}/s",
        ],
    ]


# ------------------------------------------------------------------ peak memory
def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def child(operation: str, settings_json: str, file: str) -> None:
    """In a process of its own: one export or import, and how far its RSS rose."""
    settings = Settings(**json.loads(settings_json))
    with store_of(settings) as app:
        app.store.head()  # connected, tables made
        before = _status_kb("VmRSS")
        started = time.perf_counter()
        if operation == "export":
            count = export_to(app.store, Path(file))
        else:
            count = import_from(app.store, Path(file))
        elapsed = time.perf_counter() - started
        peak = _status_kb("VmHWM")
    print(
        json.dumps(
            {
                "events": count,
                "streams": STREAMS[-1] if STREAMS else None,
                "seconds": elapsed,
                "rss_before_mb": before / 1024,
                "peak_mb": peak / 1024,
                "growth_mb": (peak - before) / 1024,
            }
        )
    )


def measured(operation: str, settings: Settings, file: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.bench_replay",
            "--child",
            operation,
            settings.model_dump_json(include={"event_store", "sqlite_path", *_PG_FIELDS}),
            str(file),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"the {operation} process failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


_PG_FIELDS = {"postgres_dbname", "postgres_schema", "postgres_host", "postgres_port"}


def memory(kind: str, big: Path, folder: Path) -> list[list[object]]:
    """Peak RSS growth of an export and of an import at each of MEMORY_SIZES."""
    figures: dict[str, dict[int, dict[str, Any]]] = {"export": {}, "import": {}}
    for size in MEMORY_SIZES:
        file = folder / f"memory-{kind}-{size}.jsonl"
        log = prefix_log(size, big)
        with source_store(kind, log, size) as settings:
            figures["export"][size] = measured("export", settings, file)
        with fresh_settings(kind) as settings:
            figures["import"][size] = measured("import", settings, file)
        file.unlink()
        for operation in ("export", "import"):
            m = figures[operation][size]
            streams = f" of {m['streams']:,} streams" if m["streams"] else ""
            console.print(
                f"{kind}: {operation} of {m['events']:,} events{streams}: RSS "
                f"{m['rss_before_mb']:.0f} → peak {m['peak_mb']:.0f} MB "
                f"(+{m['growth_mb']:.1f}), {m['events'] / m['seconds']:,.0f} events/s"
            )
    rows: list[list[object]] = []
    small = MEMORY_SIZES[0]
    for operation in ("export", "import"):
        base = figures[operation][small]["growth_mb"]
        for size in MEMORY_SIZES:
            m = figures[operation][size]
            growth = round(m["growth_mb"], 1)
            label = f"{kind} {operation} RSS +MB"
            events = f"{m['events']:,}"
            if size == small:
                rows.append([label, events, growth, "", "", ""])
            else:
                ratio = round(m["growth_mb"] / base, 2) if base > 0 else ""
                rows.append([label, events, growth, round(base, 1), ratio, f"flat vs {small:,}"])
    return rows


# ------------------------------------------------------------------ profile
def profile(big: Path, folder: Path) -> None:
    """Where export_log and import_log spend their time, on PROFILE_SIZE events on SQLite:
    the export's stages timed without a profiler, then cProfile of each."""
    log = prefix_log(PROFILE_SIZE, big)
    path = folder / "profile.jsonl"
    with store_of(Settings(event_store="sqlite", sqlite_path=log)) as app:
        store = app.store
        raw_read(store)
        stages: list[tuple[str, Callable[[], int]]] = [
            ("select_notifications only", lambda: _select_only(store)),
            ("select + decode (the baseline)", lambda: raw_read(store)),
            ("export_records (+ records built)", lambda: sum(1 for _ in export_records(store))),
            ("+ JSON encoded", lambda: sum(1 for r in export_records(store) if encode(r))),
            ("+ written: export_log to a file", lambda: export_to(store, path)),
        ]
        console.rule(f"export stages, {PROFILE_SIZE:,} events, SQLite (CPU time, best of 3)")
        for label, action in stages:
            seconds = min(_seconds(action) for _ in range(3))
            print(f"{label:<36} {seconds:6.3f} s  {PROFILE_SIZE / seconds:>9,.0f} events/s")
        _profiled(f"export_log, {PROFILE_SIZE:,} events", lambda: export_to(store, path))
    with fresh_settings("sqlite") as settings, store_of(settings) as target:
        _profiled(f"import_log, {PROFILE_SIZE:,} events", lambda: import_from(target.store, path))


def _select_only(store: EventStore) -> int:
    count, start = 0, 1
    while page := store.recorder.select_notifications(start=start, limit=PAGE):
        count += len(page)
        start = page[-1].id + 1
    return count


def _seconds(action: Callable[[], int]) -> float:
    """CPU seconds of this process: steadier than the wall clock on a shared machine."""
    started = time.process_time()
    action()
    return time.process_time() - started


def _profiled(title: str, action: Callable[[], int]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(25)
        console.rule(f"profile: {title}, by {order}")
        print(text.getvalue().strip("\n"), flush=True)


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="Events of the log.")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="Of raw read and export.")
    parser.add_argument(
        "--memory-backends",
        default=None,
        help="Stores whose peak memory is measured (default: --backends; '' for none).",
    )
    parser.add_argument("--no-memory", action="store_true", help="Skip the memory rows.")
    parser.add_argument("--profile", action="store_true", help="cProfile export and import.")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    chosen = args.backends if args.memory_backends is None else args.memory_backends
    memory_backends = [] if args.no_memory else [b for b in chosen.split(",") if b]

    started = time.perf_counter()
    big = simulated_log(max(args.events, *MEMORY_SIZES))
    log = prefix_log(args.events, big)
    rows: list[list[object]] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-replay-")))
        for kind in backends:
            settings = stack.enter_context(source_store(kind, log, args.events))
            rows += throughput(kind, settings, folder, args.rounds)
        for kind in memory_backends:
            rows += memory(kind, big, folder)
        if args.profile:
            profile(big, folder)
    if memory_backends and set(memory_backends) != set(backends):
        console.print(f"peak memory measured on {', '.join(memory_backends)} only")
    report(
        f"replay: {args.events:,} events; raw read = select_notifications + decode; "
        f"median of {args.rounds} rounds, import once",
        ["measurement", "events", "swarmlog", "baseline", "ratio", "aim"],
        rows,
        "replay.json",
    )
    console.print(f"in {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
