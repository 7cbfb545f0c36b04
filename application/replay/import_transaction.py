"""Writing an import in one transaction, whatever the store (see
:mod:`application.replay.imports`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from application.store import EventStore

if TYPE_CHECKING:
    from application.replay.imports import _Versions


def write_atomically(
    store: EventStore,
    batches: Iterator[list[StoredEvent]],
    consumers: Sequence[str],
    versions: _Versions,
) -> None:
    """Insert every batch and the consumers' tracking rows in one transaction: an
    error in any batch (or in reading the next) leaves the store as it was."""
    recorder: Any = store.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as cursor:
            statement = (
                f"SELECT MAX(originator_version) FROM {recorder.events_table_name} "
                "WHERE originator_id = ?"
            )

            def sqlite_last(stream: UUID) -> int | None:
                cursor.execute(statement, (stream.hex,))
                row = cursor.fetchone()
                return None if row is None or row[0] is None else int(row[0])

            versions.lookup = sqlite_last
            for batch in batches:
                recorder._insert_events(cursor, batch)
            _track(recorder, cursor, consumers)
    elif isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as pg_cursor:
            query = SQL(
                "SELECT MAX(originator_version) AS last FROM {schema}.{table} "
                "WHERE originator_id = %s"
            ).format(
                schema=Identifier(recorder.datastore.schema),
                table=Identifier(recorder.events_table_name),
            )

            def postgres_last(stream: UUID) -> int | None:
                pg_cursor.execute(query, (stream,))
                row = pg_cursor.fetchone()
                return None if row is None or row["last"] is None else int(row["last"])

            versions.lookup = postgres_last
            for batch in batches:
                recorder._insert_stored_events(pg_cursor, batch)
            _track(recorder, pg_cursor, consumers)
    elif hasattr(recorder, "import_events"):  # EventStoreDB: adapters/eventstoredb.py
        recorder.import_events([event for batch in batches for event in batch], consumers)
    else:  # the in-memory store: check everything first, then one insert
        everything = [event for batch in batches for event in batch]
        recorder.insert_events(everything)
        head = store.head()
        for name in consumers:
            if head:
                recorder.insert_tracking(Tracking(name, head))


def _track(recorder: Any, cursor: Any, consumers: Sequence[str]) -> None:
    """Mark each consumer as having processed the log up to its new head."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        cursor.execute(recorder.select_max_notification_id_statement)
        head = cursor.fetchone()[0] or 0
    else:
        cursor.execute(
            SQL("SELECT MAX(notification_id) AS head FROM {schema}.{table}").format(
                schema=Identifier(recorder.datastore.schema),
                table=Identifier(recorder.events_table_name),
            )
        )
        head = cursor.fetchone()["head"] or 0
    if head:
        for name in consumers:  # a consumer's earlier position, if any, is lower
            recorder._insert_tracking(cursor, Tracking(name, head))
