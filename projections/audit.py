"""The audit log: one row per domain event of every aggregate, with who caused it and why,
and one per request the API refused (``AccessRefusal.Recorded``, with what and why).

Handlers do not see an event's log position, so a row is keyed by the event's stream
and version, which is just as unique; ``occurred_at`` orders the log across streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from sqlalchemy import Column, Integer, String

from domain.access import AccessRefusal
from domain.agent import Agent
from domain.base import SwarmlogAggregate
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from projections.changes import Changes
from projections.columns import id_column, sid, time_column
from projections.projection import Projection, handles

AUDITED_AGGREGATES: tuple[type[SwarmlogAggregate], ...] = (
    Agent,
    Swarm,
    Task,
    Proposal,
    AccessRefusal,
)


def event_classes(aggregates: Iterable[type[SwarmlogAggregate]]) -> list[type]:
    """Every event class nested in the aggregates (but their bare ``Event`` bases), so a
    new event is audited without anyone having to list it here."""
    found: list[type] = []
    for aggregate in aggregates:
        for value in vars(aggregate).values():
            if (
                isinstance(value, type)
                and issubclass(value, SwarmlogAggregate.Event)
                and value is not aggregate.Event
                and value not in found
            ):
                found.append(value)
    return found


AUDITED_EVENTS = tuple(event_classes(AUDITED_AGGREGATES))


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
    version: ClassVar[int] = 2
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
