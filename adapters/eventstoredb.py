"""EventStoreDB / KurrentDB persistence for swarmlog, on `eventsourcing-eventstoredb`.

The package's recorders are adapted to what the rest of swarmlog expects of a store
(see docs/eventstoredb.md for the design):

- **Versions.** Streams start at position 0, swarmlog's aggregates at version 1 (the
  library's default ``INITIAL_VERSION``; exports, imports, time travel and the read
  models all count from 1). The events recorder maps one onto the other
  (``version = stream_position + 1``), so no aggregate changes its ``INITIAL_VERSION``.
  Snapshots keep their version in the event metadata (the package's own scheme).
- **Several aggregates in one command** are appended with one atomic
  ``multi_append_to_stream`` (KurrentDB 25.1 or later). A write that touches one
  stream only is a plain ``append_to_stream`` (any EventStoreDB version).
- **Tracking** (a policy's processed position) is an event in the stream
  ``swarmlog-tracking-<consumer>``, appended in the same multi-stream append as the
  reaction, guarded by that stream's version: a position at or below the recorded
  one is refused (``IntegrityError``), which is the exactly-once guarantee the SQL
  stores give with their tracking table.
- **Positions** are commit positions: ordered, not contiguous. ``start`` is
  inclusive as on the SQL stores, although the server only reads from positions that
  exist: swarmlog asks for ``last + 1``, so ``start - 1`` is tried first.
- **Wake-ups**: :class:`CatchUpWaker` holds a catch-up subscription to ``$all``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import structlog
from eventsourcing.persistence import (
    AggregateRecorder,
    InfrastructureFactory,
    IntegrityError,
    Notification,
    PersistenceError,
    ProcessRecorder,
    ProgrammingError,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.utils import Environment
from eventsourcing_eventstoredb.recorders import (
    EventStoreDBAggregateRecorder,
    EventStoreDBApplicationRecorder,
)
from kurrentdbclient import (
    DEFAULT_EXCLUDE_FILTER,
    KurrentDBClient,
    NewEvent,
    NewEvents,
    RecordedEvent,
    StreamState,
)
from kurrentdbclient.exceptions import (
    InvalidCommitPositionError,
    KurrentDBClientError,
    NotFoundError,
    WrongCurrentVersionError,
)

log = structlog.get_logger(__name__)

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


def root_certificates(value: str | None) -> str | None:
    """The PEM itself, or read from the file the setting names."""
    if value is None or "-----BEGIN" in value:
        return value
    path = Path(value).expanduser()
    return path.read_text(encoding="ascii") if path.is_file() else value


def tracking_stream(application_name: str) -> str:
    return TRACKING_STREAM_PREFIX + application_name


def _expected(first_version: int) -> int | StreamState:
    """The stream position the stream must be at before an append starting at
    ``first_version`` (swarmlog's versions start at 1, stream positions at 0)."""
    return StreamState.NO_STREAM if first_version <= 1 else first_version - 2


def _new_event(stored: StoredEvent) -> NewEvent:
    return NewEvent(type=stored.topic, data=stored.state, metadata=b"", content_type=CONTENT_TYPE)


def _notification(recorded: RecordedEvent) -> Notification | None:
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


def _include(topics: Sequence[str]) -> list[str]:
    return [f"^{re.escape(topic)}$" for topic in topics]


class SwarmlogEventStoreDBRecorder(EventStoreDBApplicationRecorder, ProcessRecorder):
    """The events, the log and the consumers' tracking of one swarmlog store."""

    def __init__(self, client: KurrentDBClient) -> None:
        super().__init__(client)

    # ------------------------------------------------------------------ writes
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Append the events (and the ``tracking`` keyword) atomically; every recording
        gets the commit position of the write's last event."""
        tracking: Tracking | None = kwargs.get("tracking")
        batches = [
            NewEvents(stream_name=str(stream), events=events, current_version=expected)
            for stream, events, expected in _per_stream(stored_events)
        ]
        if tracking is not None:
            batches.append(self._tracking_batch(tracking))
        if not batches:
            return []
        position = self._append(batches)
        return [position] * len(stored_events)

    def import_events(self, stored_events: Sequence[StoredEvent], consumers: Sequence[str]) -> None:
        """Append imported events in their log order: in atomic chunks, each the longest
        run of events with no stream twice (one multi-append cannot name a stream
        twice); then mark the consumers as having seen all of it."""
        chunk: list[StoredEvent] = []
        streams: set[UUID | str] = set()
        size = 0
        for stored in stored_events:
            twice = stored.originator_id in streams and not _continues(chunk, stored)
            if chunk and (twice or size + len(stored.state) > IMPORT_CHUNK_BYTES):
                self.insert_events(chunk)
                chunk, streams, size = [], set(), 0
            chunk.append(stored)
            streams.add(stored.originator_id)
            size += len(stored.state)
        if chunk:
            self.insert_events(chunk)
        head = self.max_notification_id()
        if head:
            for name in consumers:
                self.insert_tracking(Tracking(name, head))

    def _append(self, batches: list[NewEvents]) -> int:
        try:
            if len(batches) == 1:
                (only,) = batches
                return self.client.append_to_stream(
                    only.stream_name, events=only.events, current_version=only.current_version
                )
            return self.client.multi_append_to_stream(batches)
        except WrongCurrentVersionError as error:
            raise IntegrityError(error) from error
        except KurrentDBClientError as error:
            if len(batches) > 1:
                raise PersistenceError(f"{error!r} ({MULTI_APPEND_NEEDS})") from error
            raise PersistenceError(error) from error

    # ------------------------------------------------------------------ tracking
    def insert_tracking(self, tracking: Tracking) -> None:
        self._append([self._tracking_batch(tracking)])

    def max_tracking_id(self, application_name: str) -> int | None:
        return self._last_tracking(application_name)[1]

    def _tracking_batch(self, tracking: Tracking) -> NewEvents:
        at, recorded = self._last_tracking(tracking.application_name)
        if recorded is not None and tracking.notification_id <= recorded:
            raise IntegrityError(
                f"{tracking.application_name} has processed position {recorded} already"
            )
        data = json.dumps({"position": tracking.notification_id}).encode()
        return NewEvents(
            stream_name=tracking_stream(tracking.application_name),
            events=[NewEvent(type=TRACKING_TYPE, data=data, content_type="application/json")],
            current_version=at,
        )

    def _last_tracking(self, application_name: str) -> tuple[int | StreamState, int | None]:
        """The tracking stream's last stream position and the position it records."""
        try:
            last = list(
                self.client.read_stream(tracking_stream(application_name), backwards=True, limit=1)
            )
        except NotFoundError:
            return StreamState.NO_STREAM, None
        if not last:
            return StreamState.NO_STREAM, None
        return last[0].stream_position, int(json.loads(last[0].data)["position"])

    # ------------------------------------------------------------------ reads
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        if lte is not None and lte < 1:
            return []
        found = super().select_events(
            UUID(str(originator_id)),
            gt=None if gt is None else gt - 1,
            lte=None if lte is None else lte - 1,
            desc=desc,
            limit=limit,
        )
        return [
            StoredEvent(
                originator_id=e.originator_id,
                originator_version=e.originator_version + 1,
                topic=e.topic,
                state=e.state,
            )
            for e in found
        ]

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        first = 0 if start is None else start if inclusive_of_start else start + 1
        found: list[Notification] = []
        for recorded in self._read_from(first, topics, limit):
            assert recorded.commit_position is not None
            if stop is not None and recorded.commit_position > stop:
                break
            notification = _notification(recorded)
            if notification is not None:
                found.append(notification)
                if len(found) == limit:
                    break
        return found

    def _read_from(self, first: int, topics: Sequence[str], limit: int) -> Iterator[RecordedEvent]:
        """The recorded events at positions from ``first``, of ``topics`` when given.

        The server reads only from a position that exists: swarmlog's ``first`` is
        usually one past a position it was given (``start - 1``), else ``first`` may
        exist itself; otherwise the log is scanned from its beginning.
        """
        options: dict[str, Any] = {"filter_exclude": EXCLUDE, "filter_include": _include(topics)}
        if first > 1:
            for candidate in (first - 1, first):
                try:
                    events = list(
                        self.client.read_all(commit_position=candidate, limit=limit + 1, **options)
                    )
                except InvalidCommitPositionError:
                    continue
                yield from (e for e in events if (e.commit_position or 0) >= first)
                return
        for recorded in self.client.read_all(**options):
            if (recorded.commit_position or 0) >= first:
                yield recorded

    def select_stream_notifications(
        self,
        ids: Sequence[UUID],
        start: int,
        stop: int | None,
        topics: Sequence[str],
        limit: int,
    ) -> list[Notification]:
        """The notifications of some streams (read stream by stream, merged by position)."""
        wanted = set(topics)
        found: list[Notification] = []
        for originator_id in ids:
            try:
                recorded = list(self.client.read_stream(str(originator_id)))
            except NotFoundError:
                continue
            for event in recorded:
                notification = _notification(event)
                if (
                    notification is not None
                    and notification.id >= start
                    and (stop is None or notification.id <= stop)
                    and (not wanted or notification.topic in wanted)
                ):
                    found.append(notification)
        found.sort(key=lambda n: n.id)
        return found[:limit]

    def max_notification_id(self) -> int | None:
        return self.client.get_commit_position(filter_exclude=EXCLUDE) or None

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[SwarmlogEventStoreDBRecorder]:
        return CatchUpSubscription(self, gt=gt, topics=topics)


def _per_stream(
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
        batches.append((stream, [_new_event(e) for e in events], _expected(first)))
    return batches


def _continues(chunk: list[StoredEvent], stored: StoredEvent) -> bool:
    """Whether ``stored`` directly follows the chunk's last event in the same stream
    (then it can join the same append without breaking the log order)."""
    return bool(chunk) and chunk[-1].originator_id == stored.originator_id


class CatchUpSubscription(Subscription[SwarmlogEventStoreDBRecorder]):
    """Notifications after ``gt``, then live, from a catch-up subscription to $all."""

    def __init__(
        self,
        recorder: SwarmlogEventStoreDBRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._catchup = recorder.client.subscribe_to_all(
            commit_position=gt or None,
            filter_exclude=EXCLUDE,
            filter_include=_include(topics),
        )

    def __next__(self) -> Notification:
        while not self._has_been_stopped:
            notification = _notification(next(self._catchup))
            if notification is not None:
                self._last_notification_id = notification.id
                return notification
        raise StopIteration

    def stop(self) -> None:
        super().stop()
        self._catchup.stop()


class CatchUpWaker:
    """Wakes a waiting worker on each event its catch-up subscription to ``$all``
    receives (the EventStoreDB counterpart of PostgreSQL's LISTEN/NOTIFY)."""

    def __init__(self, recorder: SwarmlogEventStoreDBRecorder) -> None:
        self._woken = threading.Event()
        self._subscription = recorder.subscribe(gt=recorder.max_notification_id())
        self._thread = threading.Thread(target=self._listen, name="esdb-waker", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        try:
            for _ in self._subscription:
                self._woken.set()
        except Exception as error:  # the worker falls back to polling
            log.warning("eventstoredb.subscription_ended", error=repr(error))

    def wait(self, seconds: float) -> None:
        """Until an event is recorded (or was, since the last wait), or ``seconds``."""
        if self._woken.wait(seconds):
            self._woken.clear()

    def close(self) -> None:
        self._subscription.stop()
        self._thread.join(timeout=5)


class SwarmlogEventStoreDBFactory(InfrastructureFactory[TrackingRecorder]):
    """Recorders on one KurrentDB client, configured by ``EVENTSTOREDB_URI`` (with
    credentials and TLS options in it) and ``EVENTSTOREDB_ROOT_CERTIFICATES``."""

    EVENTSTOREDB_URI = "EVENTSTOREDB_URI"
    EVENTSTOREDB_ROOT_CERTIFICATES = "EVENTSTOREDB_ROOT_CERTIFICATES"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        uri = self.env.get(self.EVENTSTOREDB_URI)
        if not uri:
            raise PersistenceError(
                "EVENTSTOREDB_URI is not set (e.g. esdb://localhost:2113?tls=false)"
            )
        self.client = KurrentDBClient(
            uri=uri,
            root_certificates=root_certificates(self.env.get(self.EVENTSTOREDB_ROOT_CERTIFICATES)),
        )

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        if purpose == "snapshots":
            return EventStoreDBAggregateRecorder(client=self.client, for_snapshotting=True)
        return SwarmlogEventStoreDBRecorder(self.client)

    def application_recorder(self) -> SwarmlogEventStoreDBRecorder:
        return SwarmlogEventStoreDBRecorder(self.client)

    def process_recorder(self) -> SwarmlogEventStoreDBRecorder:
        return SwarmlogEventStoreDBRecorder(self.client)

    def tracking_recorder(
        self, tracking_recorder_class: type[TrackingRecorder] | None = None
    ) -> TrackingRecorder:
        if tracking_recorder_class is not None:
            raise ProgrammingError("EventStoreDB keeps swarmlog's tracking itself")
        return SwarmlogEventStoreDBRecorder(self.client)

    def close(self) -> None:
        self.client.close()
