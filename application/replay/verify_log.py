"""The log pass of :func:`application.replay.verify.verify`: positions in order and without
gaps, each stream's versions in order and without gaps, and every event decoded and upcast.
What it keeps of each stream (a :class:`Stream`) is what the stream pass replays."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    Notification,
    Transcoder,
)
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import TopicError, resolve_topic

from application.replay.verify_report import VerifyReport
from application.store import EventStore


class Stream:
    """What the log pass keeps of one stream."""

    __slots__ = ("topic", "version")

    def __init__(self, version: int, topic: str | None) -> None:
        self.version = version
        self.topic = topic


def promises_no_gaps(recorder: object) -> bool:
    """Whether the recorder's positions are consecutive (no number ever skipped)."""
    return isinstance(recorder, (SQLiteApplicationRecorder, POPOApplicationRecorder))


def check_log(
    store: EventStore,
    report: VerifyReport,
    streams: dict[Any, Stream],
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
    notification: Notification, event: Any, streams: dict[Any, Stream], report: VerifyReport
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
        streams[stream_id] = Stream(version, topic)
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
