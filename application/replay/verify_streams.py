"""The stream pass of :func:`application.replay.verify.verify`: every stream replayed from
its events alone, its snapshots decoded and compared with the replay; and snapshots of
streams the log does not have."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from eventsourcing.popo import POPOAggregateRecorder
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

from application.replay.verify_log import Stream
from application.replay.verify_report import VerifyReport
from application.store import EventStore

NOT_COMPARED = frozenset({"_pending_events"})
"""Aggregate attributes that are the library's bookkeeping, not state."""


def check_stream(
    store: EventStore, report: VerifyReport, stream_id: Any, stream: Stream, page: int
) -> None:
    snapshot_store = store.snapshots
    snapshots = (
        iter(()) if snapshot_store is None else _stored(snapshot_store.recorder, stream_id, page)
    )
    pending = next(snapshots, None)
    aggregate: Any = None
    for stored in _stored(store.recorder, stream_id, page):
        try:
            event: Any = store.mapper.to_domain_event(stored)
            aggregate = event.mutate(aggregate)
            if aggregate is None:
                raise ValueError("the event left no aggregate")
        except Exception as error:  # any failure to replay is the finding
            kind = f" ({stream.topic})" if stream.topic else ""
            report.add(
                "unreconstructable",
                f"the stream{kind} does not replay at version {stored.originator_version}: "
                f"{type(error).__name__}: {error}",
                stream_id=stream_id,
                version=stored.originator_version,
            )
            for rest in _chain(pending, snapshots):  # not comparable now; still decoded
                _check_snapshot(store, report, rest, None)
            return
        while pending is not None and pending.originator_version <= stored.originator_version:
            _check_snapshot(store, report, pending, aggregate)
            pending = next(snapshots, None)
    for rest in _chain(pending, snapshots):
        last = aggregate.version if aggregate is not None else None
        rebuilt = _check_snapshot(store, report, rest, None)
        if rebuilt is not None:
            report.add(
                "snapshot_mismatch",
                f"a snapshot of version {rest.originator_version}, but the stream ends at "
                f"version {last}",
                stream_id=stream_id,
                version=rest.originator_version,
            )


def _chain(first: StoredEvent | None, rest: Iterator[StoredEvent]) -> Iterator[StoredEvent]:
    if first is not None:
        yield first
        yield from rest


def _stored(recorder: AggregateRecorder, stream_id: Any, page: int) -> Iterator[StoredEvent]:
    """The stored events (or snapshots) of one stream, in version order, read in pages."""
    gt: int | None = None
    while True:
        batch = recorder.select_events(stream_id, gt=gt, limit=page)
        yield from batch
        if len(batch) < page:
            return
        gt = batch[-1].originator_version


def _check_snapshot(
    store: EventStore, report: VerifyReport, stored: StoredEvent, aggregate: Any
) -> Any:
    """The aggregate the snapshot makes, compared with ``aggregate`` (the same stream
    replayed from events up to the snapshot's version) when given; None when it makes none."""
    report.snapshots += 1
    where: dict[str, Any] = {
        "stream_id": stored.originator_id,
        "version": stored.originator_version,
    }
    try:
        assert store.snapshots is not None  # a stored snapshot was read from it
        snapshot: Any = store.snapshots.mapper.to_domain_event(stored)
        rebuilt = snapshot.mutate(None)
    except Exception as error:  # whatever a bad snapshot row makes the library raise
        report.add("snapshot_undecodable", f"{type(error).__name__}: {error}", **where)
        return None
    if aggregate is None:
        return rebuilt
    if aggregate.version != stored.originator_version:
        report.add(
            "snapshot_mismatch",
            f"a snapshot of version {stored.originator_version}, which the stream's events "
            f"skip (replayed to version {aggregate.version})",
            **where,
        )
        return rebuilt
    if type(rebuilt) is not type(aggregate):
        report.add(
            "snapshot_mismatch",
            f"the snapshot is a {type(rebuilt).__qualname__}, the events make a "
            f"{type(aggregate).__qualname__}",
            **where,
        )
        return rebuilt
    differing = _differences(_state(rebuilt), _state(aggregate))
    if differing:
        report.add(
            "snapshot_mismatch",
            "the snapshot differs from the events replayed in " + ", ".join(differing),
            **where,
        )
    return rebuilt


def _state(aggregate: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in vars(aggregate).items() if k not in NOT_COMPARED}


def _plain(value: Any) -> Any:
    """The value as it reads back from the store (a JSON array is a list, not a tuple)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _differences(snapshot: dict[str, Any], replayed: dict[str, Any]) -> list[str]:
    names = sorted(set(snapshot) | set(replayed))
    differing = [name for name in names if snapshot.get(name, ...) != replayed.get(name, ...)]
    if len(differing) > 10:
        differing = [*differing[:10], f"and {len(differing) - 10} more"]
    return differing


# Snapshots of streams the log does not have.


def check_orphan_snapshots(
    store: EventStore, report: VerifyReport, streams: dict[Any, Stream]
) -> None:
    if store.snapshots is None:
        return
    for stream_id, count in _snapshot_streams(store.snapshots.recorder):
        if stream_id not in streams and not store.recorder.select_events(stream_id, limit=1):
            # (a stream begun after the log pass has events by now: no orphan)
            report.snapshots += count
            report.add(
                "snapshot_orphan",
                f"{count} snapshot(s) of a stream that has no events",
                stream_id=stream_id,
            )


def _snapshot_streams(recorder: AggregateRecorder) -> Iterator[tuple[Any, int]]:
    """Each stream id in the snapshot table, with its number of snapshots."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        statement = (
            f"SELECT originator_id, COUNT(*) AS n FROM {recorder.events_table_name} "
            "GROUP BY originator_id"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement)
            for row in cursor.fetchall():
                yield recorder.convert_originator_id(row["originator_id"]), row["n"]
    elif isinstance(recorder, PostgresAggregateRecorder):
        query = SQL(
            "SELECT originator_id, COUNT(*) AS n FROM {schema}.{table} GROUP BY originator_id"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query)
            for row in cursor:
                yield row["originator_id"], row["n"]
    elif isinstance(recorder, POPOAggregateRecorder):
        counts: dict[Any, int] = {}
        for stored in list(getattr(recorder, "_stored_events", [])):
            counts[stored.originator_id] = counts.get(stored.originator_id, 0) + 1
        yield from counts.items()
