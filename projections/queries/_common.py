"""What the query modules share: running a select on a connection or an engine,
page sizes, and times as aware UTC datetimes whichever database gave them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Select

Bind = Connection | Engine
"""Queries take a connection (to read inside a caller's transaction) or an engine."""


def fetch_all(bind: Bind, query: Select[Any]) -> Sequence[RowMapping]:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return conn.execute(query).mappings().all()
    return bind.execute(query).mappings().all()


def fetch_one(bind: Bind, query: Select[Any]) -> RowMapping | None:
    rows = fetch_all(bind, query.limit(1))
    return rows[0] if rows else None


def page_size(limit: int, cap: int) -> int:
    """The rows a page holds: ``limit``, at most ``cap``; a limit below 1 is an error."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return min(limit, cap)


def aware(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite gives back naive UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc(moment: datetime) -> datetime:
    """A required stored time as an aware UTC datetime."""
    result = aware(moment)
    assert result is not None
    return result
