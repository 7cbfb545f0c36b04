"""What an operator does to projections beyond running them: dead letters and resets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from projections import catalog
from projections.batch import now
from projections.changes import Changes
from projections.runner import ProjectionRunner


def dead_letters(runner: ProjectionRunner, name: str | None = None) -> list[dict[str, Any]]:
    """Parked events, oldest first (of one projection, or all)."""
    query = select(catalog.dead_letters).order_by(
        catalog.dead_letters.c.projection, catalog.dead_letters.c.position
    )
    if name is not None:
        query = query.where(catalog.dead_letters.c.projection == name)
    with runner.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def retry_dead_letter(runner: ProjectionRunner, name: str, position: int) -> None:
    """Apply a parked event again (after the fault is fixed); it leaves the dead letters.

    Raises the projector's error, and keeps the event parked, if it fails again.
    """
    projection = runner.by_name[name]
    notification = runner.store.recorder.select_notifications(start=position, limit=1)[0]
    event = runner.store.decode(notification)
    with runner.writer() as conn:
        row = runner.status_row(conn, name)
        changes = Changes(conn, runner.generation_tables(projection, row.generation))
        projection.apply(changes, event)
        changes.flush()
        _mark(conn, name, position, "retried")


def skip_dead_letter(runner: ProjectionRunner, name: str, position: int) -> None:
    """Give up on a parked event: it stays recorded as skipped."""
    with runner.writer() as conn:
        _mark(conn, name, position, "skipped")


def _mark(conn: Any, name: str, position: int, status: str) -> None:
    table = catalog.dead_letters
    result = conn.execute(
        update(table)
        .where(table.c.projection == name, table.c.position == position, table.c.status == "parked")
        .values(status=status)
    )
    if result.rowcount != 1:
        raise LookupError(f"no parked event of {name} at position {position}")


def reset(runner: ProjectionRunner, name: str) -> None:
    """Empty the projection's live tables and start it again from the beginning.

    Unlike a rebuild, readers see the tables empty until it has caught up again.
    """
    projection = runner.by_name[name]
    with runner.writer() as conn:
        row = runner.status_row(conn, name)
        runner.drop_views(conn, projection)
        runner.create_generation(conn, projection, row.generation)
        runner.point_views(conn, projection, row.generation)
        conn.execute(
            update(catalog.status)
            .where(catalog.status.c.name == name)
            .values(
                checkpoint=0,
                version=projection.version,
                state="running",
                last_error=None,
                updated_at=now(),
            )
        )
