"""Rebuilding a projection without downtime.

The next generation of its tables is filled beside the live one from the start of
the log, with a checkpoint of its own (so a cancelled rebuild resumes); once it has
caught up, one transaction applies the last events, points the views at it and
moves the status over. Readers see the old tables until that commit, the new ones
after it: never an empty or half-built table.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import update

from projections import catalog
from projections.batch import Lane, Progress, now
from projections.changes import Changes
from projections.projection import Projection
from projections.runner import ProjectionRunner


def rebuild(
    runner: ProjectionRunner,
    projections: Sequence[Projection],
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> bool:
    """Build each projection's next generation beside the live one, then swap each in.

    Returns False when cancelled; calling it again resumes where it stopped.
    """
    building = {p.name: _start(runner, p) for p in projections}

    def lanes() -> list[Lane]:
        with runner.engine.connect() as conn:
            rows = [(p, runner.status_row(conn, p.name)) for p in projections]
        return [
            Lane(p, building[p.name], "building_checkpoint", row.building_checkpoint)
            for p, row in rows
        ]

    runner.drive(lanes, progress, cancel)
    if cancel is not None and cancel.is_set():
        return False
    for projection in projections:
        _swap(runner, projection, building[projection.name])
    return True


def _start(runner: ProjectionRunner, projection: Projection) -> int:
    """The generation being built: the one a cancelled rebuild left, or a new one."""
    with runner.writer() as conn:
        row = runner.status_row(conn, projection.name)
        assert row is not None, "run setup() first"
        if row.building_generation is not None:
            return int(row.building_generation)
        building = int(row.generation) + 1
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
        return building


def _swap(runner: ProjectionRunner, projection: Projection, building: int) -> None:
    """In one transaction: catch up the last events, point the views, move the status."""
    with runner.writer() as conn:
        row = runner.status_row(conn, projection.name, for_update=True)
        assert row is not None
        head = runner.store.head()
        reached = max(head, row.building_checkpoint)
        if row.building_checkpoint < head:
            events = [
                (n.id, runner.store.decode(n))
                for n in runner.store.notifications(
                    row.building_checkpoint + 1, head, projection.topics
                )
            ]
            changes = Changes(conn, runner.generation_tables(projection, building))
            projection.prefetch(changes, [event for _, event in events])
            for _, event in events:
                projection.apply(changes, event)
            changes.flush()
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
