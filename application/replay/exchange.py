"""Export the log as JSON Lines, and import such a file into a store.

One line per event, in log order::

    {"position": 7, "stream": "…", "version": 2, "type": "Task.Assigned",
     "timestamp": "…", "actor": "…", "correlation_id": "…", "causation_id": "…",
     "payload": {…}, "topic": "domain.task:Task.Assigned", "state": "{…}"}

``payload`` is for people and tools; ``topic`` and ``state`` are the stored event
verbatim (the library's JSON), which is what an import writes back: streams,
versions, timestamps, metadata and class versions (for upcasting) come through
unchanged, whatever store they came from and go to.

An import is one transaction: a malformed line, an unknown event type, a version
that does not follow its stream's last one or a line out of log order stops it
with the line number, and nothing of it stays behind. The store must be empty
unless ``append`` is asked for (then no stream of the file may exist in it). The
policies are marked as having seen everything imported: their reactions are in
the file already and must not happen twice. Import into a store no process is
serving: a running process's policies remember their position in memory.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import io
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import resolve_topic
from psycopg.sql import SQL, Identifier

from application.log import CONTEXT, METADATA, pages, plain
from application.store import EventStore
from domain.errors import DomainError

BATCH = 1000
Progress = Callable[[int], None]


class ImportRefused(DomainError):
    """The file cannot be imported as it is; ``details["line"]`` says where."""

    code = "IMPORT_REFUSED"


def _refuse(line: int, message: str) -> ImportRefused:
    return ImportRefused(f"line {line}: {message}", line=line)


# ---------------------------------------------------------------------- export
_NOT_PAYLOAD = frozenset(METADATA + CONTEXT)


def export_records(
    store: EventStore,
    *,
    start: int = 1,
    stop: int | None = None,
    types: Sequence[str] = (),
    streams: Sequence[Any] = (),
) -> Iterator[dict[str, Any]]:
    """The events of the range as export records, in log order, a page at a time.

    Values are left as the events hold them (UUIDs, datetimes): :func:`encode` writes
    them as JSON strings."""
    decode = store.mapper.to_domain_event
    for page in pages(store, start=start, stop=stop, types=types, streams=streams):
        for notification in page:
            event = decode(notification)
            fields = vars(event)
            record = {
                "position": notification.id,
                "stream": notification.originator_id,
                "version": notification.originator_version,
                "type": type(event).__qualname__,
                "timestamp": fields["timestamp"],
                "actor": fields.get("actor"),
                "correlation_id": fields.get("correlation_id"),
                "causation_id": fields.get("causation_id"),
                "payload": {k: v for k, v in fields.items() if k not in _NOT_PAYLOAD},
                "topic": notification.topic,
            }
            try:
                record["state"] = notification.state.decode("utf-8")
            except UnicodeDecodeError:  # a compressed or encrypted store
                record["state_b64"] = base64.b64encode(notification.state).decode("ascii")
            yield record


def encode(record: dict[str, Any]) -> bytes:
    """One JSON line (UTF-8, ending in a newline); UUIDs and datetimes as strings."""
    return orjson.dumps(record, default=plain, option=orjson.OPT_APPEND_NEWLINE)


def export_log(
    store: EventStore,
    out: IO[str] | IO[bytes],
    *,
    start: int = 1,
    stop: int | None = None,
    types: Sequence[str] = (),
    streams: Sequence[Any] = (),
    progress: Progress | None = None,
) -> int:
    """Write the range to ``out`` (a binary stream, or a text one) as JSON Lines;
    returns how many events."""
    count = 0
    chunk: list[bytes] = []
    text = isinstance(out, io.TextIOBase)

    def write(lines: list[bytes]) -> None:
        if text:
            cast(IO[str], out).write(b"".join(lines).decode("utf-8"))
        else:
            cast(IO[bytes], out).writelines(lines)

    for record in export_records(store, start=start, stop=stop, types=types, streams=streams):
        chunk.append(encode(record))
        if len(chunk) == BATCH:
            write(chunk)
            count += len(chunk)
            chunk.clear()
            if progress is not None:
                progress(BATCH)
    if chunk:
        write(chunk)
        count += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return count


@contextmanager
def open_for_writing(path: Path | None, *, compress: bool) -> Iterator[IO[bytes]]:
    """A binary stream to ``path`` (stdout when None), gzip-compressed when asked."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if compress:
        with gzip.open(path, "wb", compresslevel=6) as zipped:
            yield cast(IO[bytes], zipped)
    else:
        with path.open("wb", buffering=1 << 20) as out:
            yield out


@contextmanager
def open_for_reading(path: Path) -> Iterator[IO[str]]:
    """A text stream of ``path``, gunzipped when it is gzip (by its first bytes)."""
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    if compressed:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            yield stream
    else:
        with path.open("r", encoding="utf-8", buffering=1 << 20) as stream:
            yield stream


# ---------------------------------------------------------------------- import
@dataclass(frozen=True)
class ImportReport:
    events: int
    streams: int
    first_position: int
    last_position: int


@dataclass
class _Checker:
    """What an import must know across lines: each stream's last version, the last
    position, and the topics already resolved."""

    store: EventStore
    append: bool
    versions: _Versions
    topics: dict[str, bool]
    last_position: int = 0

    def stored_event(self, number: int, text: str) -> StoredEvent:
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            if not text.endswith("\n"):
                raise _refuse(number, "the line is cut short: the file is truncated") from None
            raise _refuse(number, f"not JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(record, dict):
            raise _refuse(number, "a line must be a JSON object")
        try:
            position = int(record["position"])
            stream = UUID(str(record["stream"]))
            version = int(record["version"])
            topic = str(record["topic"])
            if "state" in record:
                state = str(record["state"]).encode("utf-8")
            else:
                state = base64.b64decode(str(record["state_b64"]), validate=True)
        except KeyError as missing:
            raise _refuse(number, f"the field {missing.args[0]!r} is missing") from None
        except (TypeError, ValueError) as error:
            raise _refuse(number, f"a field has the wrong form ({error})") from None
        if position <= self.last_position:
            raise _refuse(
                number,
                f"position {position} comes after {self.last_position}: "
                "the lines are not in log order",
            )
        self.last_position = position
        self._check_topic(number, topic)
        self._check_version(number, stream, version)
        stored = StoredEvent(
            originator_id=stream, originator_version=version, topic=topic, state=state
        )
        try:
            event = self.store.mapper.to_domain_event(stored)
        except Exception as error:  # the state does not make the event it claims
            raise _refuse(number, f"the event does not decode ({error!r})") from None
        lacking = missing_fields(event)
        if lacking:
            raise _refuse(number, f"the event lacks its field(s) {', '.join(lacking)}")
        return stored

    def _check_topic(self, number: int, topic: str) -> None:
        known = self.topics.get(topic)
        if known is None:
            try:
                resolve_topic(topic)
                known = True
            except Exception:
                known = False
            self.topics[topic] = known
        if not known:
            raise _refuse(number, f"unknown event type {topic!r}")

    def _check_version(self, number: int, stream: UUID, version: int) -> None:
        last = self.versions.last(stream)
        in_memory = self.versions.lookup is None
        if last is None and self.append and in_memory and self._exists(stream):
            last = -1
        if last is None:
            if version != 1:
                raise _refuse(number, f"stream {stream} starts at version {version}, not 1")
        elif version == 1:
            raise _refuse(number, f"stream {stream} already exists (in the store or the file)")
        elif version == last:
            raise _refuse(number, f"stream {stream} has version {version} twice")
        elif version != last + 1:
            raise _refuse(number, f"stream {stream} goes from version {last} to {version}: a gap")
        self.versions.record(stream, version)

    def _exists(self, stream: UUID) -> bool:
        return bool(self.store.recorder.select_events(stream, limit=1))


STREAMS_KEPT = 10_000
"""Streams whose last version an import keeps in memory; it asks the database for the
others, so its memory stays flat however many streams a log holds."""


class _Versions:
    """Each stream's last version in the import so far: the ``STREAMS_KEPT`` most
    recently seen in memory, the others read back through ``lookup`` (the import's own
    transaction). A stream in the batch not yet written is always among the recent."""

    def __init__(self) -> None:
        self.recent: OrderedDict[UUID, int] = OrderedDict()
        self.lookup: Callable[[UUID], int | None] | None = None
        self.streams = 0

    def last(self, stream: UUID) -> int | None:
        found = self.recent.get(stream)
        if found is not None:
            self.recent.move_to_end(stream)
            return found
        return self.lookup(stream) if self.lookup is not None else None

    def record(self, stream: UUID, version: int) -> None:
        if version == 1:
            self.streams += 1
        self.recent[stream] = version
        self.recent.move_to_end(stream)
        # never fewer than a batch: the streams of the batch not yet written stay here
        if self.lookup is not None and len(self.recent) > max(STREAMS_KEPT, BATCH):
            self.recent.popitem(last=False)


def import_log(
    store: EventStore,
    lines: Iterable[str],
    *,
    consumers: Sequence[str] = (),
    append: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Load export lines into the store in one transaction (see the module docstring).

    ``consumers`` are the names of the policies to mark as having seen all of it.
    """
    before = store.head()
    if before and not append:
        raise ImportRefused(
            f"the store already holds {before} events; import into an empty store, "
            "or append (no stream of the file may exist in the store then)",
            line=0,
        )
    checker = _Checker(store, append, versions=_Versions(), topics={})
    count = 0

    def batches() -> Iterator[list[StoredEvent]]:
        nonlocal count
        batch: list[StoredEvent] = []
        for number, text in _numbered(lines):
            if not text.strip():
                continue
            batch.append(checker.stored_event(number, text))
            if len(batch) == BATCH:
                count += len(batch)
                yield batch
                batch = []
                if progress is not None:
                    progress(BATCH)
        if batch:
            count += len(batch)
            yield batch
            if progress is not None:
                progress(len(batch))

    _write_atomically(store, batches(), consumers, checker.versions)
    head = store.head()
    return ImportReport(
        events=count,
        streams=checker.versions.streams,
        first_position=before + 1 if count else before,
        last_position=head,
    )


def _write_atomically(
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


def missing_fields(event: Any) -> list[str]:
    """The fields the event's class declares that the decoded (and upcast) state lacks."""
    state = vars(event)
    return [name for name in _declared(type(event)) if name not in state]


_DECLARED: dict[type, tuple[str, ...]] = {}


def _declared(kind: type) -> tuple[str, ...]:
    """The field names an event class declares (remembered per class)."""
    found = _DECLARED.get(kind)
    if found is None:
        fields = dataclasses.fields(kind) if dataclasses.is_dataclass(kind) else ()
        found = _DECLARED[kind] = tuple(f.name for f in fields)
    return found


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """The lines with their numbers; a compressed file cut short, or bytes that are
    not UTF-8, stop the import at the line where it happens."""
    number = 0
    iterator = iter(lines)
    while True:
        number += 1
        try:
            text = next(iterator)
        except StopIteration:
            return
        except (EOFError, gzip.BadGzipFile) as error:
            raise _refuse(number, f"the file is truncated or corrupt ({error})") from None
        except UnicodeDecodeError:
            raise _refuse(number, "the line is not UTF-8 text") from None
        yield number, text
