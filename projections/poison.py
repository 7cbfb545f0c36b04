"""Poison events: an event a projector keeps failing on is parked (or halts it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from sqlalchemy import update

from projections import catalog
from projections.batch import Batch, CheckpointMoved, ProjectorFailed, now
from projections.database import insert_new
from projections.projection import Projection

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner

log = structlog.get_logger(__name__)


def apply_one_by_one(
    runner: ProjectionRunner,
    projection: Projection,
    generation: int,
    column: str,
    checkpoint: int,
    batch: Batch,
) -> int | None:
    """Isolate the failing event: retry it, then park it (or halt) and go on.

    A rebuild (``column`` is not the live checkpoint) never halts the live
    projection: a halting failure stops the rebuild, which can be resumed.
    """
    for position, event in batch.events:
        single = Batch([(position, event)], position)
        for attempt in range(1, runner.retries + 1):
            try:
                runner.try_apply(projection, generation, column, checkpoint, single)
                break
            except CheckpointMoved:
                return 0
            except ProjectorFailed as failure:
                if attempt < runner.retries:
                    continue
                if projection.on_error == "halt":
                    if column != "checkpoint":
                        raise
                    halt(runner, projection, failure)
                    return None
                park(runner, projection, column, checkpoint, failure, attempt)
        checkpoint = position
    with runner.writer() as conn:
        runner.advance(conn, projection.name, column, checkpoint, batch.reaches)
    return len(batch.events)


def park(
    runner: ProjectionRunner,
    projection: Projection,
    column: str,
    checkpoint: int,
    failure: ProjectorFailed,
    attempts: int,
) -> None:
    """Record the event as a dead letter (once: a rebuild meets it again) and go past it."""
    log.warning("projection.parked", projection=projection.name, position=failure.position)
    with runner.writer() as conn:
        insert_new(
            conn,
            catalog.dead_letters,
            {
                "projection": projection.name,
                "position": failure.position,
                "event_type": type(failure.event).__qualname__,
                "originator_id": str(failure.event.originator_id),
                "originator_version": failure.event.originator_version,
                "error": repr(failure.error),
                "attempts": attempts,
                "status": "parked",
                "parked_at": now(),
            },
        )
        runner.advance(conn, projection.name, column, checkpoint, failure.position)


def halt(runner: ProjectionRunner, projection: Projection, failure: ProjectorFailed) -> None:
    log.error("projection.halted", projection=projection.name, position=failure.position)
    with runner.writer() as conn:
        conn.execute(
            update(catalog.status)
            .where(catalog.status.c.name == projection.name)
            .values(state="halted", last_error=str(failure), updated_at=now())
        )


# ------------------------------------------------------------------ rebuild
