"""How swarmlog's stored events map onto KurrentDB streams and the log: the tracking
streams, the filters that keep notifications to aggregates' events, versions against
stream positions, and the grouping of a write into one append per stream (see
adapters/eventstoredb.py for the design)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from kurrentdbclient import DEFAULT_EXCLUDE_FILTER, NewEvent, RecordedEvent, StreamState

TRACKING_TYPE = "swarmlog-tracking"
TRACKING_STREAM_PREFIX = "swarmlog-tracking-"
# what is never a notification: system events, snapshots, tracking events
EXCLUDE = (*DEFAULT_EXCLUDE_FILTER, ".*Snapshot", f"^{TRACKING_TYPE}$")
CONTENT_TYPE: Final = "application/octet-stream"
# below the server's default MaxAppendSize (1 MiB), with room for the envelopes
IMPORT_CHUNK_BYTES = 512 * 1024
MULTI_APPEND_NEEDS = (
    "a write to several streams at once (a command that changes several aggregates, "
    "an idempotency record, a policy's tracking) needs multi_append_to_stream, "
    "KurrentDB 25.1 or later"
)


def tracking_stream(application_name: str) -> str:
    return TRACKING_STREAM_PREFIX + application_name


def expected_position(first_version: int) -> int | StreamState:
    """The stream position the stream must be at before an append starting at
    ``first_version`` (swarmlog's versions start at 1, stream positions at 0)."""
    return StreamState.NO_STREAM if first_version <= 1 else first_version - 2


def new_event(stored: StoredEvent) -> NewEvent:
    return NewEvent(type=stored.topic, data=stored.state, metadata=b"", content_type=CONTENT_TYPE)


def to_notification(recorded: RecordedEvent) -> Notification | None:
    """The notification of a recorded event; None for a stream that is not an
    aggregate's (the database should be swarmlog's alone)."""
    try:
        originator_id = UUID(recorded.stream_name)
    except ValueError:
        return None
    assert recorded.commit_position is not None
    return Notification(
        id=recorded.commit_position,
        originator_id=originator_id,
        originator_version=recorded.stream_position + 1,
        topic=recorded.type,
        state=recorded.data,
    )


def include_filter(topics: Sequence[str]) -> list[str]:
    return [f"^{re.escape(topic)}$" for topic in topics]


def per_stream(
    stored_events: Iterable[StoredEvent],
) -> list[tuple[UUID | str, list[NewEvent], int | StreamState]]:
    """The events grouped by stream (in order of first appearance), each group with
    the stream position its stream must be at; IntegrityError on a gap."""
    groups: dict[UUID | str, list[StoredEvent]] = {}
    for stored in stored_events:
        groups.setdefault(stored.originator_id, []).append(stored)
    batches = []
    for stream, events in groups.items():
        first = events[0].originator_version
        if [e.originator_version for e in events] != list(range(first, first + len(events))):
            raise IntegrityError(f"stream {stream}: versions are not consecutive")
        batches.append((stream, [new_event(e) for e in events], expected_position(first)))
    return batches


def continues(chunk: list[StoredEvent], stored: StoredEvent) -> bool:
    """Whether ``stored`` directly follows the chunk's last event in the same stream
    (then it can join the same append without breaking the log order)."""
    return bool(chunk) and chunk[-1].originator_id == stored.originator_id
