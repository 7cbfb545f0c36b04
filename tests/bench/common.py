"""Helpers the benchmarks share: fresh stores, timing, and the result table."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from adapters.settings import Settings

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
console = Console()


@contextmanager
def fresh_settings(kind: str) -> Iterator[Settings]:
    """Settings for an empty store of the given kind, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield Settings(event_store="sqlite", sqlite_path=Path(folder) / "bench.db")
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Settings(event_store="postgres", postgres_dbname="test", postgres_schema=schema)
    finally:
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def rate(count: int, action: Callable[[], None]) -> float:
    """Operations per second of ``action`` run once for ``count`` operations."""
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(title: str, columns: list[str], rows: list[list[object]], out: str) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column != columns[0] else "left")
    for row in rows:
        table.add_row(*(f"{v:,.0f}" if isinstance(v, float) and v > 10 else str(v) for v in row))
    console.print(table)
    path = Path("var/bench") / out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"columns": columns, "rows": rows}, indent=2, default=str))


@contextmanager
def fresh_read_models(kind: str) -> Iterator[str]:
    """The URL of an empty read-model database of the given kind, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'read_models.db'}"
        return
    schema = f"bench_rm_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield (
            f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
