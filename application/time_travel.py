"""Time travel: any aggregate as it was at a version or a moment, and the events of one
stream (read through :mod:`application.log`'s stream ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.log import plain, stream_ids
from application.store import EventStore
from domain.errors import NotFound, ValidationError


def stream_events(store: EventStore, stream_id: Any) -> list[Any]:
    """Every event of one stream, decoded, oldest first (NOT_FOUND when it has none)."""
    (key,) = stream_ids([stream_id])
    events = list(store.events.get(key))
    if not events:
        raise NotFound(f"no stream with id {key}", id=str(key))
    return events


def aggregate_at(
    store: EventStore,
    stream_id: Any,
    *,
    version: int | None = None,
    at: datetime | None = None,
) -> Any:
    """The aggregate as it was at ``version``, or at the moment ``at`` (its state after
    the last event at or before it); the current state when neither is given."""
    if version is not None and at is not None:
        raise ValidationError("give a version or a time, not both", field="version")
    (key,) = stream_ids([stream_id])
    if at is not None:
        if at.tzinfo is None:
            raise ValidationError("give the time with its offset (e.g. ...Z)", field="at")
        version = _version_at(store, key, at)
    elif version is not None and version < 1:
        raise ValidationError(f"version {version} is before the first (1)", field="version")
    aggregate = store.repository.get(key, version=version) if _exists(store, key) else None
    if aggregate is None:
        raise NotFound(f"no stream with id {key}", id=str(key))
    if version is not None and aggregate.version < version:
        raise NotFound(f"stream {key} has {aggregate.version} versions, not {version}", id=str(key))
    return aggregate


def _exists(store: EventStore, key: UUID) -> bool:
    return bool(store.recorder.select_events(key, limit=1))


def _version_at(store: EventStore, key: UUID, at: datetime) -> int:
    version = None
    for event in stream_events(store, key):
        if event.timestamp > at:
            break
        version = event.originator_version
    if version is None:
        raise NotFound(f"stream {key} did not exist yet at {at.isoformat()}", id=str(key))
    return version


def state_of(aggregate: Any) -> dict[str, Any]:
    """The aggregate's attributes, JSON-ready (private ones left out)."""
    return {
        key.lstrip("_") if key in ("_id", "_version") else key: plain(value)
        for key, value in vars(aggregate).items()
        if not key.startswith("_") or key in ("_id", "_version")
    }
