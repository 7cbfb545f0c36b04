"""The recorder of a swarmlog store on EventStoreDB / KurrentDB: the events, the log
and the consumers' tracking, and the catch-up subscription that follows the log
(see adapters/eventstoredb.py for the design)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    PersistenceError,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
)
from eventsourcing_eventstoredb.recorders import EventStoreDBApplicationRecorder
from kurrentdbclient import KurrentDBClient, NewEvent, NewEvents, RecordedEvent, StreamState
from kurrentdbclient.exceptions import (
    InvalidCommitPositionError,
    KurrentDBClientError,
    NotFoundError,
    WrongCurrentVersionError,
)

from adapters.eventstoredb_streams import (
    EXCLUDE,
    IMPORT_CHUNK_BYTES,
    MULTI_APPEND_NEEDS,
    TRACKING_TYPE,
    continues,
    include_filter,
    per_stream,
    to_notification,
    tracking_stream,
)


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
            for stream, events, expected in per_stream(stored_events)
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
            twice = stored.originator_id in streams and not continues(chunk, stored)
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
            notification = to_notification(recorded)
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
        options: dict[str, Any] = {
            "filter_exclude": EXCLUDE,
            "filter_include": include_filter(topics),
        }
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
                notification = to_notification(event)
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
            filter_include=include_filter(topics),
        )

    def __next__(self) -> Notification:
        while not self._has_been_stopped:
            notification = to_notification(next(self._catchup))
            if notification is not None:
                self._last_notification_id = notification.id
                return notification
        raise StopIteration

    def stop(self) -> None:
        super().stop()
        self._catchup.stop()
