"""Queries of the per-swarm metrics: the series by minute, with success rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from projections.columns import sid
from projections.metrics import SwarmMetricsProjection, minute_of
from projections.queries._common import Bind, fetch_all

_metrics = SwarmMetricsProjection().views()["swarm_metrics"]


def success_rate(completed: int, failed: int) -> float | None:
    """completed / (completed + failed); None when nothing finished."""
    finished = completed + failed
    return completed / finished if finished else None


@dataclass(frozen=True)
class MetricPoint:
    minute: datetime
    """The start of the minute (aware, UTC)."""
    tasks_created: int
    tasks_completed: int
    tasks_failed: int
    queue_depth_end: int
    success_rate: float | None


@dataclass(frozen=True)
class SwarmMetrics:
    """A swarm's series, oldest minute first, and its totals over the series."""

    swarm_id: str
    points: tuple[MetricPoint, ...]
    tasks_created: int
    tasks_completed: int
    tasks_failed: int
    success_rate: float | None


def swarm_metrics(bind: Bind, swarm_id: Any, since: datetime | None = None) -> SwarmMetrics:
    """The swarm's minutes from the one holding ``since`` (an aware datetime) on."""
    key = sid(swarm_id)
    assert key is not None
    query = select(_metrics).where(_metrics.c.swarm_id == key).order_by(_metrics.c.minute)
    if since is not None:
        query = query.where(_metrics.c.minute >= minute_of(since))
    points = tuple(
        MetricPoint(
            minute=row["minute"].replace(tzinfo=UTC),
            tasks_created=row["tasks_created"],
            tasks_completed=row["tasks_completed"],
            tasks_failed=row["tasks_failed"],
            queue_depth_end=row["queue_depth_end"],
            success_rate=success_rate(row["tasks_completed"], row["tasks_failed"]),
        )
        for row in fetch_all(bind, query)
    )
    completed = sum(p.tasks_completed for p in points)
    failed = sum(p.tasks_failed for p in points)
    return SwarmMetrics(
        swarm_id=key,
        points=points,
        tasks_created=sum(p.tasks_created for p in points),
        tasks_completed=completed,
        tasks_failed=failed,
        success_rate=success_rate(completed, failed),
    )
