"""Reading the log as people want to see it: events with their metadata and payload,
filtered by stream, type and position (time travel is :mod:`application.time_travel`).

The GraphQL API and the replay tools both read through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from application.store import EventStore
from domain.errors import ValidationError
from domain.events import event_type

METADATA = ("originator_id", "originator_version", "originator_topic", "timestamp")
CONTEXT = ("actor", "correlation_id", "causation_id")
MAX_STREAMS = 100


def plain(value: Any) -> Any:
    """A JSON-ready copy of an event field or aggregate attribute."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log, as an operator reads it."""

    position: int
    stream_id: str
    version: int
    type: str
    timestamp: datetime
    actor: str
    correlation_id: str
    causation_id: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, position: int, event: Any) -> LoggedEvent:
        fields = vars(event)
        return cls(
            position=position,
            stream_id=str(event.originator_id),
            version=event.originator_version,
            type=type(event).__qualname__,
            timestamp=event.timestamp,
            actor=event.actor,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            payload={k: plain(v) for k, v in fields.items() if k not in METADATA + CONTEXT},
        )


def topics_of(types: Iterable[str]) -> list[str]:
    """The stored topics of the named event types (VALIDATION for an unknown name)."""
    return [get_topic(event_type(name)) for name in types]


def stream_ids(values: Iterable[Any]) -> list[UUID]:
    """Stream ids from what a caller sent (VALIDATION for one that is not a UUID)."""
    ids = []
    for value in values:
        try:
            ids.append(value if isinstance(value, UUID) else UUID(str(value)))
        except ValueError:
            raise ValidationError(
                f"{str(value)[:100]!r} is not a stream id (a UUID)", field="streams"
            ) from None
    if len(ids) > MAX_STREAMS:
        raise ValidationError(f"at most {MAX_STREAMS} streams at once", field="streams")
    return ids


def read_log(
    store: EventStore,
    *,
    start: int = 1,
    stop: int | None = None,
    types: Sequence[str] = (),
    streams: Sequence[Any] = (),
    limit: int = 100,
) -> list[LoggedEvent]:
    """At most ``limit`` events from position ``start`` to ``stop`` (both inclusive), in
    log order, of the given types and streams when some are given."""
    found = select(store, start, stop, topics_of(types), stream_ids(streams), limit)
    return [LoggedEvent.of(n.id, store.decode(n)) for n in found]


def select(
    store: EventStore,
    start: int,
    stop: int | None,
    topics: Sequence[str],
    ids: Sequence[UUID],
    limit: int,
) -> Sequence[Notification]:
    """One page of notifications: of the streams ``ids`` when some are given (through
    their primary key), else of the whole log; of ``topics`` when some are given."""
    if ids:
        return _stream_notifications(store, list(ids), max(1, start), stop, list(topics), limit)
    return store.recorder.select_notifications(
        start=max(1, start), limit=limit, stop=stop, topics=topics, inclusive_of_start=True
    )


def pages(
    store: EventStore,
    *,
    start: int = 1,
    stop: int | None = None,
    types: Sequence[str] = (),
    streams: Sequence[Any] = (),
    topics: Sequence[str] = (),
    page: int = 1000,
) -> Iterator[Sequence[Notification]]:
    """The notifications from ``start`` to ``stop`` page by page (constant memory), of
    the event types (by name, or by stored ``topics``) and streams when given."""
    topics, ids = [*topics, *topics_of(types)], stream_ids(streams)
    while True:
        batch = select(store, start, stop, topics, ids, page)
        if batch:
            yield batch
        if len(batch) < page:
            return
        start = batch[-1].id + 1


def _stream_notifications(
    store: EventStore,
    ids: list[UUID],
    start: int,
    stop: int | None,
    topics: list[str],
    limit: int,
) -> list[Notification]:
    """The notifications of some streams, through the streams' primary key index."""
    recorder = store.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite_stream_notifications(recorder, ids, start, stop, topics, limit)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_stream_notifications(recorder, ids, start, stop, topics, limit)
    by_streams = getattr(recorder, "select_stream_notifications", None)
    if by_streams is not None:  # EventStoreDB: reads each stream (adapters/eventstoredb.py)
        found: list[Notification] = by_streams(ids, start, stop, topics, limit)
        return found
    # the in-memory store: a scan is all there is, and it is small
    wanted = set(ids)
    found = []
    for notification in store.notifications(start, stop, topics):
        if notification.originator_id in wanted:
            found.append(notification)
            if len(found) == limit:
                break
    return found


def _sqlite_stream_notifications(
    recorder: SQLiteApplicationRecorder,
    ids: list[UUID],
    start: int,
    stop: int | None,
    topics: list[str],
    limit: int,
) -> list[Notification]:
    params: list[Any] = [i.hex for i in ids]
    statement = (
        f"SELECT rowid, * FROM {recorder.events_table_name} "
        f"WHERE originator_id IN ({','.join('?' * len(ids))}) AND rowid >= ? "
    )
    params.append(start)
    if stop is not None:
        statement += "AND rowid <= ? "
        params.append(stop)
    if topics:
        statement += f"AND topic IN ({','.join('?' * len(topics))}) "
        params += topics
    statement += "ORDER BY rowid LIMIT ?"
    params.append(limit)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        return [
            Notification(
                id=row["rowid"],
                originator_id=recorder.convert_originator_id(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in cursor.fetchall()
        ]


def _postgres_stream_notifications(
    recorder: PostgresApplicationRecorder,
    ids: list[UUID],
    start: int,
    stop: int | None,
    topics: list[str],
    limit: int,
) -> list[Notification]:
    statement = SQL(
        "SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s) AND notification_id >= %s"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    params: list[Any] = [ids, start]
    if stop is not None:
        statement += SQL(" AND notification_id <= %s")
        params.append(stop)
    if topics:
        statement += SQL(" AND topic = ANY(%s)")
        params.append(topics)
    statement += SQL(" ORDER BY notification_id LIMIT %s")
    params.append(limit)
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, params)
        return [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in cursor.fetchall()
        ]
