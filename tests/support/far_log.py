"""A store whose log has passed 2^32 positions, as an EventStoreDB log does past 4 GiB
(its positions are byte offsets), made quickly: for the tests of 64-bit positions."""

from __future__ import annotations

import sqlite3
from uuid import UUID

import psycopg

from adapters.settings import Settings
from application.bootstrap import bootstrap
from tests.conftest import PG
from tests.integration.helpers import spawn

FAR = 2**40
"""Past 2^31 (GraphQL's Int, a PostgreSQL integer) and 2^32."""


def move_log_past(settings: Settings, position: int, first: str = "first") -> UUID:
    """A store holding one spawned agent (its id returned), whose next events land past
    ``position``:
    PostgreSQL's sequence restarted there, SQLite's rows moved there (its next row id
    is the highest plus one)."""
    app = bootstrap(settings)
    agent = spawn(app, first)
    app.close()
    if settings.event_store == "postgres":
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            for (name,) in conn.execute(
                "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = %s",
                (settings.postgres_schema,),
            ).fetchall():
                conn.execute(
                    f'ALTER SEQUENCE "{settings.postgres_schema}"."{name}" '
                    f"RESTART WITH {position + 1}"
                )
    else:
        with sqlite3.connect(settings.sqlite_path) as conn:
            conn.execute("UPDATE stored_events SET rowid = rowid + ?", (position,))
    return agent
