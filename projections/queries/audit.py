"""Queries of the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_

from projections.audit import AuditProjection
from projections.columns import sid
from projections.queries._common import Bind, fetch_all, page_size, utc

MAX_PAGE = 1000
_audit = AuditProjection().views()["audit_log"]


@dataclass(frozen=True)
class AuditCursor:
    """Where a page of the audit log ended: the log is ordered by these three."""

    occurred_at: datetime
    stream_id: str
    version: int


@dataclass(frozen=True)
class AuditEntry:
    stream_id: str
    version: int
    event_type: str
    actor: str
    correlation_id: str
    causation_id: str
    occurred_at: datetime
    detail: str | None = None

    @property
    def cursor(self) -> AuditCursor:
        return AuditCursor(self.occurred_at, self.stream_id, self.version)


def audit_log(
    bind: Bind,
    *,
    actor: str | None = None,
    stream_id: Any = None,
    event_type: str | None = None,
    after: AuditCursor | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Events in time order (then stream, then version), from the one after ``after``
    (the ``cursor`` of the last entry of the previous page); at most ``limit`` (cap 1000).

    Ordered by time, not by log position: the projection does not see positions.
    """
    columns = (_audit.c.occurred_at, _audit.c.stream_id, _audit.c.version)
    query = select(_audit).order_by(*columns).limit(page_size(limit, MAX_PAGE))
    if actor is not None:
        query = query.where(_audit.c.actor == actor)
    if stream_id is not None:
        query = query.where(_audit.c.stream_id == sid(stream_id))
    if event_type is not None:
        query = query.where(_audit.c.event_type == event_type)
    if after is not None:
        moment = after.occurred_at.astimezone(UTC)
        query = query.where(tuple_(*columns) > tuple_(moment, after.stream_id, after.version))
    return [
        AuditEntry(
            stream_id=row["stream_id"],
            version=row["version"],
            event_type=row["event_type"],
            actor=row["actor"],
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
            occurred_at=utc(row["occurred_at"]),
            detail=row["detail"],
        )
        for row in fetch_all(bind, query)
    ]
