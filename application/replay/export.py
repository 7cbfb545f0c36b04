"""Export the log as JSON Lines (:mod:`application.replay.imports` reads such a file back).

One line per event, in log order::

    {"position": 7, "stream": "…", "version": 2, "type": "Task.Assigned",
     "timestamp": "…", "actor": "…", "correlation_id": "…", "causation_id": "…",
     "payload": {…}, "topic": "domain.task:Task.Assigned", "state": "{…}"}

``payload`` is for people and tools; ``topic`` and ``state`` are the stored event
verbatim (the library's JSON), which is what an import writes back: streams,
versions, timestamps, metadata and class versions (for upcasting) come through
unchanged, whatever store they came from and go to.
"""

from __future__ import annotations

import base64
import gzip
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import orjson

from application.log import CONTEXT, METADATA, pages, plain
from application.store import EventStore

BATCH = 1000
Progress = Callable[[int], None]

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
