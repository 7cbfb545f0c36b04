"""What an operator reads about projections: checkpoints, lag, state, dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from projections import catalog
from projections.batch import now
from projections.projection import Projection

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner


def outdated(runner: ProjectionRunner, projection: Projection) -> bool:
    """Whether the live tables were built by another version of the projection."""
    with runner.engine.connect() as conn:
        row = runner.status_row(conn, projection.name)
    return row is not None and row.version != projection.version


def checkpoint(runner: ProjectionRunner, name: str) -> int:
    with runner.engine.connect() as conn:
        row = runner.status_row(conn, name)
    return row.checkpoint if row is not None else 0


def status(runner: ProjectionRunner) -> list[dict[str, Any]]:
    """One row per projection: version, checkpoint, head, lag, state, dead letters."""
    head = runner.store.head()
    with runner.engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(catalog.status))}
        letters = catalog.dead_letters
        parked: dict[str, int] = dict(
            conn.execute(
                select(letters.c.projection, func.count())
                .where(letters.c.status == "parked")
                .group_by(letters.c.projection)
            ).all()
        )
    result = []
    for projection in runner.projections:
        row = rows.get(projection.name)
        checkpoint = row.checkpoint if row else 0
        result.append(
            {
                "name": projection.name,
                "version": row.version if row else projection.version,
                "generation": row.generation if row else 0,
                "checkpoint": checkpoint,
                "head": head,
                "lag": max(0, head - checkpoint),
                "lag_seconds": lag_seconds(runner, projection, checkpoint, head),
                "state": _state(row, projection),
                "dead_letters": parked.get(projection.name, 0),
                "owner": row.owner if row else None,
            }
        )
    return result


def lag_seconds(
    runner: ProjectionRunner, projection: Projection, checkpoint: int, head: int
) -> float:
    """How long the oldest event the projection has not applied has been waiting."""
    if checkpoint >= head:
        return 0.0
    waiting = runner.store.recorder.select_notifications(
        start=checkpoint + 1, limit=1, stop=head, topics=projection.topics
    )
    if not waiting:
        return 0.0
    occurred: datetime = getattr(runner.store.decode(waiting[0]), "timestamp")  # noqa: B009
    return max(0.0, (now() - occurred).total_seconds())


def _state(row: Any, projection: Projection) -> str:
    if row is None:
        return "not set up"
    if row.building_generation is not None:
        return "rebuilding"
    if row.version != projection.version and row.state == "running":
        return "outdated"
    return str(row.state)
