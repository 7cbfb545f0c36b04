"""The audit log: one row per domain event of every aggregate, with who caused it and why,
and one per request the API refused (``AccessRefusal.Recorded``, with what and why).

Handlers do not see an event's log position, so a row is keyed by the event's stream
and version, which is just as unique; ``occurred_at`` orders the log across streams.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Column, Integer, String

from domain.access import AccessRefusal
from domain.events import EVENT_CLASSES
from projections.changes import Changes
from projections.columns import id_column, sid, time_column
from projections.projection import Projection, handles

AUDITED_EVENTS = EVENT_CLASSES


def _audit_columns() -> list[Column[Any]]:
    return [
        id_column("stream_id", primary_key=True),
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("event_type", String(100), nullable=False, index=True),
        Column("actor", String(), nullable=False, index=True),
        Column("correlation_id", String(), nullable=False, index=True),
        Column("causation_id", String(), nullable=False),
        time_column("occurred_at"),
        Column("detail", String(), nullable=True),
    ]


def _detail(event: Any) -> str | None:
    """What a refusal was about; other events need none (their stream says it)."""
    if isinstance(event, AccessRefusal.Recorded):
        return f"{event.code} {event.permission} on {event.operation}: {event.reason}"
    return None


class AuditProjection(Projection):
    name: ClassVar[str] = "audit"
    version: ClassVar[int] = 3
    """v3: the neural model registry's events are audited too."""
    columns = {"audit_log": _audit_columns}

    # Every row is new: nothing to read first, so no prefetch.

    @handles(*AUDITED_EVENTS)
    def recorded(self, changes: Changes, event: Any) -> None:
        changes.put(
            "audit_log",
            {
                "stream_id": sid(event.originator_id),
                "version": event.originator_version,
                "event_type": type(event).__qualname__,
                "actor": event.actor,
                "correlation_id": event.correlation_id,
                "causation_id": event.causation_id,
                "occurred_at": event.timestamp,
                "detail": _detail(event),
            },
        )
