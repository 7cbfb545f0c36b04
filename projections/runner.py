"""The batched projection runner: exactly once, resumable, with dead letters and rebuilds.

Each batch of events and the projection's new checkpoint are written in one
transaction. The checkpoint update is guarded by the checkpoint it read, so if
another runner (or a rebuild's swap) moved it meanwhile, the batch rolls back and
nothing is applied twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine, MetaData, Table, select, update

from application.store import EventStore
from projections import catalog, poison, status
from projections.batch import Batch, CheckpointMoved, Lane, Progress, ProjectorFailed, now
from projections.changes import Changes
from projections.positions import widen_positions
from projections.projection import Projection, physical_name

log = structlog.get_logger(__name__)


@dataclass
class ProjectionRunner:
    store: EventStore
    engine: Engine
    projections: Sequence[Projection]
    batch_size: int = 1000
    retries: int = 3
    _tables: dict[tuple[str, int], dict[str, Table]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    def __post_init__(self) -> None:
        self.by_name = {p.name: p for p in self.projections}

    # ------------------------------------------------------------------ set-up
    def setup(self) -> None:
        """Create the bookkeeping tables, and generation 1 of each new projection."""
        with self.writer() as conn:  # a write transaction from its start (see database.py)
            catalog.metadata.create_all(conn)
            widen_positions(conn, catalog.metadata)
        for projection in self.projections:
            with self.writer() as conn:
                if self.status_row(conn, projection.name) is None:
                    self.create_generation(conn, projection, 1)
                    self.point_views(conn, projection, 1)
                    conn.execute(
                        catalog.status.insert().values(
                            name=projection.name,
                            version=projection.version,
                            generation=1,
                            checkpoint=0,
                            state="running",
                            updated_at=now(),
                        )
                    )

    # ------------------------------------------------------------------ running
    def catch_up(
        self,
        progress: Progress | None = None,
        *,
        only: Sequence[Projection] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Apply every new event to the projections (all, or ``only`` these); returns
        the events applied. ``stop`` ends it between batches."""
        targets = list(self.projections if only is None else only)

        def live() -> list[Lane]:
            with self.engine.connect() as conn:
                rows = [(p, self.status_row(conn, p.name)) for p in targets]
            return [
                Lane(p, row.generation, "checkpoint", row.checkpoint)
                for p, row in rows
                if row is not None and row.state != "halted"
            ]

        return self.drive(live, progress, stop)

    def drive(
        self,
        lanes: Callable[[], list[Lane]],
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Feed the log to every lane until all have reached its head.

        Each round reads one page of the log for all lanes together and decodes each
        event once; every lane then applies its share in a transaction of its own.
        """
        applied = 0
        while stop is None or not stop.is_set():
            head = self.store.head()
            behind = [lane for lane in lanes() if lane.checkpoint < head]
            if not behind:
                break
            page = self._page(behind, min(lane.checkpoint for lane in behind) + 1, head)
            reaches = page[-1].id if len(page) == self.batch_size else head
            decoded: dict[int, Any] = {}
            work = []
            for lane in behind:
                if lane.checkpoint >= reaches:
                    continue
                wanted = lane.projection.topic_set
                events = [
                    (n.id, decoded.get(n.id) or decoded.setdefault(n.id, self.store.decode(n)))
                    for n in page
                    if n.id > lane.checkpoint and n.topic in wanted
                ]
                work.append((lane, Batch(events, reaches)))
            for done in self._map(
                lambda job: self.apply_batch(
                    job[0].projection, job[0].generation, job[0].column, job[0].checkpoint, job[1]
                ),
                work,
            ):
                applied += done or 0
            if progress:
                progress(reaches, head)
        return applied

    def _page(self, lanes: list[Lane], start: int, head: int) -> Sequence[Notification]:
        """A page of the log from ``start`` for these lanes (only the topics they handle)."""
        return self.store.recorder.select_notifications(
            start=start,
            limit=self.batch_size,
            stop=head,
            topics=sorted({t for lane in lanes for t in lane.projection.topics}),
        )

    def _parallel(self) -> bool:
        """Whether the read models take concurrent writers (PostgreSQL does, SQLite not)."""
        return self.engine.dialect.name == "postgresql"

    def _map(self, function: Callable[[Any], int | None], jobs: list[Any]) -> list[int | None]:
        """Run the lanes' transactions side by side where the database allows it: one
        lane's Python work overlaps another's database work."""
        if len(jobs) < 2 or not self._parallel():
            return [function(job) for job in jobs]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="projection")
        return list(self._pool.map(function, jobs))

    def apply_batch(
        self, projection: Projection, generation: int, column: str, checkpoint: int, batch: Batch
    ) -> int | None:
        """Apply a batch to a generation and move ``column`` (its checkpoint) past it.

        Returns the events applied, 0 when another runner moved the checkpoint first,
        None when the projection halted.
        """
        try:
            self.try_apply(projection, generation, column, checkpoint, batch)
        except CheckpointMoved:
            return 0
        except ProjectorFailed:
            return poison.apply_one_by_one(self, projection, generation, column, checkpoint, batch)
        return len(batch.events)

    def try_apply(
        self, projection: Projection, generation: int, column: str, expected: int, batch: Batch
    ) -> None:
        with self.writer() as conn:
            changes = Changes(conn, self.generation_tables(projection, generation))
            projection.prefetch(changes, [event for _, event in batch.events])
            for position, event in batch.events:
                try:
                    projection.apply(changes, event)
                except Exception as error:
                    raise ProjectorFailed(position, event, error) from error
            changes.flush()
            self.advance(conn, projection.name, column, expected, batch.reaches)

    def rebuild(
        self,
        projection: Projection,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Build the next generation beside the live one, then swap it in atomically.

        Returns False when cancelled; calling it again resumes where it stopped.
        """
        return self.rebuild_many([projection], progress, cancel)

    def rebuild_many(
        self,
        projections: Sequence[Projection],
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Rebuild several projections together, reading the log once for all."""
        from projections.rebuild import rebuild  # it drives this runner's lanes

        return rebuild(self, projections, progress, cancel)

    def outdated(self, projection: Projection) -> bool:
        """Whether the live tables were built by another version of the projection."""
        return status.outdated(self, projection)

    def checkpoint(self, name: str) -> int:
        return status.checkpoint(self, name)

    def status(self) -> list[dict[str, Any]]:
        """One row per projection: version, checkpoint, head, lag, state, dead letters."""
        return status.status(self)

    def claim(self, name: str, owner: str) -> None:
        """Record which worker runs the projection now (it holds the lease)."""
        with self.writer() as conn:
            conn.execute(
                update(catalog.status)
                .where(catalog.status.c.name == name)
                .values(owner=owner, updated_at=now())
            )

    # ------------------------------------------------------------------ helpers
    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A write transaction (SQLite: holding the write lock from its start)."""
        with self.engine.connect() as conn:
            conn.execution_options(writer=True)
            with conn.begin():
                yield conn

    def status_row(self, conn: Connection, name: str, *, for_update: bool = False) -> Any:
        query = select(catalog.status).where(catalog.status.c.name == name)
        if for_update and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return conn.execute(query).first()

    def advance(self, conn: Connection, name: str, column: str, expected: int, to: int) -> None:
        result = conn.execute(
            update(catalog.status)
            .where(catalog.status.c.name == name, catalog.status.c[column] == expected)
            .values({column: to, "updated_at": now()})
        )
        if result.rowcount != 1:
            raise CheckpointMoved(name)

    def generation_tables(self, projection: Projection, generation: int) -> dict[str, Table]:
        key = (projection.name, generation)
        if key not in self._tables:
            self._tables[key] = projection.tables(generation, MetaData())
        return self._tables[key]

    def create_generation(self, conn: Connection, projection: Projection, generation: int) -> None:
        for table in self.generation_tables(projection, generation).values():
            table.drop(conn, checkfirst=True)
            table.create(conn)

    def drop_views(self, conn: Connection, projection: Projection) -> None:
        for logical in projection.columns:
            conn.exec_driver_sql(f'DROP VIEW IF EXISTS "{logical}"')

    def point_views(self, conn: Connection, projection: Projection, generation: int) -> None:
        self.drop_views(conn, projection)
        for logical in projection.columns:
            physical = physical_name(logical, generation)
            conn.exec_driver_sql(f'CREATE VIEW "{logical}" AS SELECT * FROM "{physical}"')
