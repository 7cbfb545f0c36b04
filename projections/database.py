"""The read-model database: an engine from settings, and bulk upserts for either dialect."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url


def read_model_engine(url: str) -> Engine:
    """An engine for the read models; SQLite files get WAL and a busy timeout.

    SQLite transactions are real transactions (DDL included); a connection with the
    execution option ``writer=True`` takes the write lock when it begins, so a writer
    never fails half-way on a lock upgrade.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions begin below, DDL included
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("writer") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows, replacing those whose primary key exists (one executemany)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    others = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    if others:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=others)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    if dialect is postgresql and len(rows) >= COPY_FROM:
        _copy_upsert(conn, table, rows, keys)
    else:
        conn.execute(statement, list(rows))


COPY_FROM = 64
"""From this many rows on, PostgreSQL upserts go through COPY into a staging table."""


def _copy_upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    """COPY the rows into a session-local staging table, then one INSERT ... SELECT
    ... ON CONFLICT: one round trip for the data instead of one per row."""
    names = [c.name for c in table.columns]
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    stage = f"_stage_{table.name}"
    quoted = ", ".join(f'"{n}"' for n in names)
    others = [n for n in names if n not in keys]
    action = (
        "DO UPDATE SET " + ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in others)
        if others
        else "DO NOTHING"
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(
        f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" (LIKE "{table.name}") ON COMMIT DELETE ROWS'
    )
    with cursor.copy(f'COPY "{stage}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in json_columns else row[n] for n in names])
    conflict = ", ".join(f'"{k}"' for k in keys)
    cursor.execute(
        f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM "{stage}" '
        f"ON CONFLICT ({conflict}) {action}"
    )
    cursor.execute(f'DELETE FROM "{stage}"')


def insert_new(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    """Insert the row unless one with its primary key exists (then leave that one)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    keys = [c.name for c in table.primary_key.columns]
    conn.execute(dialect.insert(table).values(row).on_conflict_do_nothing(index_elements=keys))
