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

from collections.abc import Callable
from typing import Any

from application.replay.verify_log import Stream, check_log, promises_no_gaps
from application.replay.verify_report import KINDS, Finding, VerifyReport
from application.replay.verify_streams import check_orphan_snapshots, check_stream
from application.store import EventStore

PAGE = 1000


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
    streams: dict[Any, Stream] = {}
    check_log(store, report, streams, progress, page)
    report.streams = len(streams)
    for stream_id, stream in streams.items():
        check_stream(store, report, stream_id, stream, page)
    check_orphan_snapshots(store, report, streams)
    return report


__all__ = ["KINDS", "Finding", "VerifyReport", "promises_no_gaps", "verify"]
