"""Rebuilding a projection without downtime.

The next generation of its tables is filled beside the live one from the start of
the log, with a checkpoint of its own (so a cancelled rebuild resumes); once it has
caught up, one transaction applies the last events, points the views at it and
moves the status over. Readers see the old tables until that commit, the new ones
after it: never an empty or half-built table.
"""

from __future__ import annotations

import threading

from sqlalchemy import update

from projections import catalog
from projections.changes import Changes
from projections.projection import Projection
from projections.runner import Progress, ProjectionRunner, now


def rebuild(
    runner: ProjectionRunner,
    projection: Projection,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> bool:
    """Build the next generation beside the live one, then swap it in atomically.

    Returns False when cancelled; calling it again resumes where it stopped.
    """
    with runner.writer() as conn:
        row = runner.status_row(conn, projection.name)
        assert row is not None, "run setup() first"
        building = row.building_generation
        if building is None:
            building = row.generation + 1
            runner.create_generation(conn, projection, building)
            conn.execute(
                update(catalog.status)
                .where(catalog.status.c.name == projection.name)
                .values(
                    building_generation=building,
                    building_version=projection.version,
                    building_checkpoint=0,
                    updated_at=now(),
                )
            )
    while True:
        if cancel is not None and cancel.is_set():
            return False
        with runner.engine.connect() as conn:
            row = runner.status_row(conn, projection.name)
        assert row is not None
        batch = runner._next_batch(projection, row.building_checkpoint)
        if batch is None:
            break
        runner.apply_batch(
            projection, building, "building_checkpoint", row.building_checkpoint, batch
        )
        if progress:
            progress(batch.reaches, runner.store.head())
    _swap(runner, projection, building)
    return True


def _swap(runner: ProjectionRunner, projection: Projection, building: int) -> None:
    """In one transaction: catch up the last events, point the views, move the status."""
    with runner.writer() as conn:
        row = runner.status_row(conn, projection.name, for_update=True)
        assert row is not None
        batch = runner._next_batch(projection, row.building_checkpoint)
        if batch is not None:
            changes = Changes(conn, runner.generation_tables(projection, building))
            projection.prefetch(changes, [event for _, event in batch.events])
            for _, event in batch.events:
                projection.apply(changes, event)
            changes.flush()
        reached = batch.reaches if batch is not None else row.building_checkpoint
        runner.point_views(conn, projection, building)
        conn.execute(
            update(catalog.status)
            .where(catalog.status.c.name == projection.name)
            .values(
                generation=building,
                version=row.building_version,
                checkpoint=reached,
                building_generation=None,
                building_version=None,
                building_checkpoint=None,
                state="running",
                last_error=None,
                updated_at=now(),
            )
        )
        old = row.generation
    with runner.writer() as conn:
        for table in runner.generation_tables(projection, old).values():
            table.drop(conn, checkfirst=True)
