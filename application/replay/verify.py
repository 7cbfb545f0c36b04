"""Verify the log: walk all of it and report every fault found, never stopping at the first.

What is checked, and the stable word each kind of finding goes by:

- ``position_order``: positions (notification ids) strictly increase along the log.
- ``position_gap``: no position is missing, where the store promises none (SQLite's rowids
  and the in-memory list do; a PostgreSQL sequence may skip numbers when a transaction rolls
  back, so there a gap is no fault and is not reported).
- ``version_gap``: a stream starts at its aggregate's initial version (1) and goes up by
  exactly one in log order; a version skipped (or a stream starting later) is a gap.
- ``version_order``: a version not above the stream's previous one, in log order.
- ``unknown_topic``: an event whose topic names no class this code has.
- ``undecodable``: an event whose stored state cannot be decoded.
- ``not_upcast``: an event not brought to its class's current version: an upcaster missing,
  state stored by a newer class version than the code's, or a field its class declares
  (without a default) missing after decoding.
- ``unreconstructable``: a stream whose events, folded from nothing (no snapshot, no cache),
  do not give an aggregate.
- ``snapshot_undecodable``: a snapshot that cannot be decoded into an aggregate.
- ``snapshot_mismatch``: a snapshot that differs from the state replayed from events alone
  at its version (or that is of a version the stream does not have).
- ``snapshot_orphan``: snapshots of a stream that has no events.

Memory stays flat in the size of the log: the log is read in pages, and what is kept is a
small record per stream (its last version and aggregate topic); the streams are then
replayed one at a time, their snapshots read alongside in pages. The store is best verified
while nothing writes to it; events written meanwhile are checked or not, but raise no
findings of their own.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    AggregateRecorder,
    Mapper,
    MapperDeserialisationError,
    Notification,
    StoredEvent,
    Transcoder,
)
from eventsourcing.popo import POPOAggregateRecorder, POPOApplicationRecorder
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder
from eventsourcing.utils import TopicError, resolve_topic
from psycopg.sql import SQL, Identifier

from application.store import EventStore

KINDS = (
    "position_order",
    "position_gap",
    "version_gap",
    "version_order",
    "unknown_topic",
    "undecodable",
    "not_upcast",
    "unreconstructable",
    "snapshot_undecodable",
    "snapshot_mismatch",
    "snapshot_orphan",
)
"""Every kind of finding :func:`verify` reports."""

PAGE = 1000
NOT_COMPARED = frozenset({"_pending_events"})
"""Aggregate attributes that are the library's bookkeeping, not state."""


@dataclass(frozen=True)
class Finding:
    """One fault of the log: its kind (one of :data:`KINDS`), where it is, and what."""

    kind: str
    position: int | None
    stream_id: str | None
    version: int | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.stream_id is not None:
            where.append(f"stream {self.stream_id}")
        if self.version is not None:
            where.append(f"version {self.version}")
        return f"{self.kind} ({', '.join(where) or 'log'}): {self.message}"


@dataclass
class VerifyReport:
    """What was verified and what was found; ``ok`` when nothing was."""

    events: int = 0
    streams: int = 0
    snapshots: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def add(
        self,
        kind: str,
        message: str,
        *,
        position: int | None = None,
        stream_id: Any = None,
        version: int | None = None,
    ) -> None:
        stream = None if stream_id is None else str(stream_id)
        self.findings.append(Finding(kind, position, stream, version, message))

    def lines(self) -> list[str]:
        """The report as text, one line a finding after a summary line."""
        summary = (
            f"{self.events} events in {self.streams} streams, {self.snapshots} snapshots: "
            + ("ok" if self.ok else f"{len(self.findings)} finding(s)")
        )
        return [summary, *(str(finding) for finding in self.findings)]


class _Stream:
    """What the log pass keeps of one stream."""

    __slots__ = ("topic", "version")

    def __init__(self, version: int, topic: str | None) -> None:
        self.version = version
        self.topic = topic


def verify(
    store: EventStore,
    progress: Callable[[int], None] | None = None,
    *,
    page: int = PAGE,
) -> VerifyReport:
    """Walk the whole log of ``store`` and report every fault found (see the module doc).

    ``progress`` is called with the number of events read so far, after each page of the
    log (the first pass, the one whose length the caller knows: the log's head).
    """
    report = VerifyReport()
    streams: dict[Any, _Stream] = {}
    _check_log(store, report, streams, progress, page)
    report.streams = len(streams)
    for stream_id, stream in streams.items():
        _check_stream(store, report, stream_id, stream, page)
    _check_orphan_snapshots(store, report, streams)
    return report


def promises_no_gaps(recorder: object) -> bool:
    """Whether the recorder's positions are consecutive (no number ever skipped)."""
    return isinstance(recorder, (SQLiteApplicationRecorder, POPOApplicationRecorder))


# The log pass: positions, versions, decoding.


def _check_log(
    store: EventStore,
    report: VerifyReport,
    streams: dict[Any, _Stream],
    progress: Callable[[int], None] | None,
    page: int,
) -> None:
    gap_free = promises_no_gaps(store.recorder)
    peek = _Peek(store.mapper.transcoder)
    mapper = copy.copy(store.mapper)  # the store's own mapper, its transcoder peeked at
    mapper.transcoder = peek
    previous = 0
    for batch in _pages(store, page):
        for notification in batch:
            report.events += 1
            position = notification.id
            if position <= previous:
                report.add(
                    "position_order",
                    f"position {position} comes after position {previous}",
                    position=position,
                    stream_id=notification.originator_id,
                    version=notification.originator_version,
                )
            elif gap_free and position != previous + 1:
                missing = (
                    f"position {previous + 1}"
                    if position == previous + 2
                    else f"positions {previous + 1} to {position - 1}"
                )
                report.add(
                    "position_gap",
                    f"{missing} missing before position {position}",
                    position=position,
                )
            previous = max(previous, position)
            event = _decode(mapper, peek, notification, report)
            _check_version(notification, event, streams, report)
        if progress is not None:
            progress(report.events)


def _pages(store: EventStore, page: int) -> Iterator[list[Notification]]:
    start = 1
    while True:
        batch = list(
            store.recorder.select_notifications(start=start, limit=page, inclusive_of_start=True)
        )
        if batch:
            yield batch
        if len(batch) < page:
            return
        start = max(n.id for n in batch) + 1


class _Peek(Transcoder):
    """The store's transcoder, noting the class version each decoded state was stored at
    (the mapper takes it out of the state before the event is made)."""

    def __init__(self, inner: Transcoder) -> None:
        self.inner = inner
        self.class_version: Any = 1

    def encode(self, obj: Any) -> bytes:
        return self.inner.encode(obj)

    def decode(self, data: bytes) -> Any:
        state = self.inner.decode(data)
        self.class_version = state.get("class_version", 1) if isinstance(state, dict) else 1
        return state


def _decode(
    mapper: Mapper[Any], peek: _Peek, notification: Notification, report: VerifyReport
) -> Any:
    """The notification's event, upcast; None (and a finding) when it is not to be had."""
    where: dict[str, Any] = {
        "position": notification.id,
        "stream_id": notification.originator_id,
        "version": notification.originator_version,
    }
    topic = notification.topic
    peek.class_version = 1
    try:
        event = mapper.to_domain_event(notification)
    except TopicError as error:
        report.add("unknown_topic", f"topic {topic!r} names no class: {error}", **where)
        return None
    except MapperDeserialisationError as error:
        report.add("undecodable", str(error), **where)
        return None
    except Exception as error:  # whatever else a bad row makes the mapper (or an upcaster) raise
        stored = peek.class_version
        current = _class_version(topic)
        if isinstance(stored, int) and stored < current:  # it was being upcast
            report.add(
                "not_upcast",
                f"{topic} stored at class version {stored} is not brought to version "
                f"{current}: {type(error).__name__}: {error}",
                **where,
            )
        else:
            report.add("undecodable", f"{topic}: {type(error).__name__}: {error}", **where)
        return None
    current = getattr(type(event), "class_version", 1)
    stored = peek.class_version
    if not isinstance(stored, int) or stored > current:
        what = "newer than" if isinstance(stored, int) else "not a version like"
        report.add(
            "not_upcast",
            f"{topic} stored at class version {stored!r}, {what} the class's {current}",
            **where,
        )
        return event
    missing = [name for name in _required_fields(type(event)) if not hasattr(event, name)]
    if missing:
        report.add(
            "not_upcast",
            f"{topic} (class version {current}) lacks {', '.join(missing)} after decoding "
            f"(stored at class version {stored})",
            **where,
        )
    return event


def _class_version(topic: str) -> int:
    """The current class version of the class the topic names (1 when it says none)."""
    try:
        version = getattr(resolve_topic(topic), "class_version", 1)
    except Exception:  # the topic resolved a moment ago; be safe anyway
        return 1
    return version if isinstance(version, int) else 1


@lru_cache(maxsize=512)
def _required_fields(cls: type) -> tuple[str, ...]:
    """The fields an event of ``cls`` must carry: those its class declares, without a
    default."""
    if not dataclasses.is_dataclass(cls):
        return ()
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def _check_version(
    notification: Notification, event: Any, streams: dict[Any, _Stream], report: VerifyReport
) -> None:
    stream_id = notification.originator_id
    version = notification.originator_version
    where: dict[str, Any] = {
        "position": notification.id,
        "stream_id": stream_id,
        "version": version,
    }
    stream = streams.get(stream_id)
    if stream is None:
        topic = getattr(event, "originator_topic", None)
        topic = topic if isinstance(topic, str) else None
        initial = _initial_version(topic)
        if version != initial:
            report.add(
                "version_gap",
                f"the stream starts at version {version}, not at {initial}",
                **where,
            )
        streams[stream_id] = _Stream(version, topic)
        return
    last = stream.version
    if version <= last:
        report.add(
            "version_order", f"version {version} comes after version {last} of its stream", **where
        )
        return
    if version != last + 1:
        missing = (
            f"version {last + 1}"
            if version == last + 2
            else f"versions {last + 1} to {version - 1}"
        )
        report.add("version_gap", f"{missing} missing before version {version}", **where)
    stream.version = version


@lru_cache(maxsize=512)
def _initial_version(aggregate_topic: str | None) -> int:
    default = Aggregate.INITIAL_VERSION
    if aggregate_topic is None:
        return default
    try:
        initial = getattr(resolve_topic(aggregate_topic), "INITIAL_VERSION", default)
    except Exception:  # an aggregate class gone: its Created event says so when replayed
        return default
    return initial if isinstance(initial, int) else default


# The stream pass: every stream replayed from its events alone, its snapshots compared.


def _check_stream(
    store: EventStore, report: VerifyReport, stream_id: Any, stream: _Stream, page: int
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


def _check_orphan_snapshots(
    store: EventStore, report: VerifyReport, streams: dict[Any, _Stream]
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


__all__ = ["KINDS", "Finding", "VerifyReport", "promises_no_gaps", "verify"]
