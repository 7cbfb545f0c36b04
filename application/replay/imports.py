"""Import a JSON Lines export (see :mod:`application.replay.export`) into a store.

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
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from application.replay.export import BATCH, Progress
from application.replay.import_transaction import write_atomically
from application.store import EventStore
from domain.errors import DomainError


class ImportRefused(DomainError):
    """The file cannot be imported as it is; ``details["line"]`` says where."""

    code = "IMPORT_REFUSED"


def _refuse(line: int, message: str) -> ImportRefused:
    return ImportRefused(f"line {line}: {message}", line=line)


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

    write_atomically(store, batches(), consumers, checker.versions)
    head = store.head()
    return ImportReport(
        events=count,
        streams=checker.versions.streams,
        first_position=before + 1 if count else before,
        last_position=head,
    )


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
