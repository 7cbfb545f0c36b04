"""The example consumer: the event log in, training examples out, exactly once.

It reads the log from its checkpoint a page at a time, feeds the task lifecycle
events to a :class:`~adapters.neural.tracker.LogTracker`, and writes the page's
examples, the tracker rows that changed and the new checkpoint in one transaction.
The checkpoint update is guarded by the position it read: if another consumer of
the same name moved it meanwhile, the page rolls back, the in-memory state is
dropped and reloaded, and nothing is written twice. A restart reloads the state
from its tables and goes on from the checkpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from adapters.neural import tables
from adapters.neural.features import Example, SwarmFacts
from adapters.neural.rows import example_of
from adapters.neural.tracker import TOPICS, LogTracker, StateChanges
from application.store import EventStore
from projections.database import upsert
from projections.positions import widen_positions


class CheckpointMoved(Exception):
    """Another consumer of the same name advanced the checkpoint first."""


class ExampleConsumer:
    """Turns the log into rows of ``neural_examples``; see the module docstring."""

    def __init__(
        self, store: EventStore, engine: Engine, *, name: str = "neural", page: int = 1000
    ) -> None:
        self.store, self.engine, self.name, self.page = store, engine, name, page
        self._tracker: LogTracker | None = None
        self._position = -1

    def setup(self) -> None:
        """Create the tables and this consumer's checkpoint row (idempotent)."""
        with self._writer() as conn:
            # in the write transaction: on SQLite a deferred one that reads the schema
            # and then creates a table fails at once when another writer got in between
            tables.metadata.create_all(conn)
            widen_positions(conn, tables.metadata)
            found = conn.execute(
                select(tables.checkpoints.c.position).where(tables.checkpoints.c.name == self.name)
            ).first()
            if found is None:
                conn.execute(insert(tables.checkpoints).values(name=self.name, position=0))

    # ------------------------------------------------------------------ reading the log
    def checkpoint(self) -> int:
        with self.engine.connect() as conn:
            return self._checkpoint(conn)

    def catch_up(self, stop: int | None = None) -> int:
        """Consume the log up to ``stop`` (default: its head); returns new examples."""
        head = self.store.head() if stop is None else min(stop, self.store.head())
        made = 0
        while True:
            position = self.checkpoint()
            if position >= head:
                return made
            tracker = self._tracker_at(position)
            page = self.store.recorder.select_notifications(
                start=position + 1, limit=self.page, stop=head, topics=list(TOPICS)
            )
            reaches = page[-1].id if len(page) == self.page else head
            found = [
                example
                for n in page
                if (example := tracker.apply(n.id, self.store.decode(n))) is not None
            ]
            try:
                self._commit(position, reaches, found, tracker.changes())
            except CheckpointMoved:
                self._tracker = None
                continue
            self._position = reaches
            made += len(found)

    def _tracker_at(self, position: int) -> LogTracker:
        if self._tracker is None or self._position != position:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(tables.state.c.kind, tables.state.c.key, tables.state.c.row).where(
                        tables.state.c.consumer == self.name
                    )
                ).all()
            self._tracker = LogTracker((r.kind, r.key, r.row) for r in rows)
            self._position = position
        return self._tracker

    def _commit(
        self, expected: int, reaches: int, found: list[Example], changes: StateChanges
    ) -> None:
        with self._writer() as conn:
            moved = conn.execute(
                update(tables.checkpoints)
                .where(
                    tables.checkpoints.c.name == self.name,
                    tables.checkpoints.c.position == expected,
                )
                .values(position=reaches)
            )
            if moved.rowcount != 1:
                raise CheckpointMoved(self.name)
            upsert(conn, tables.examples, [self._example_row(e) for e in found])
            upsert(
                conn,
                tables.state,
                [
                    {"consumer": self.name, "kind": kind, "key": key, "row": row}
                    for kind, key, row in changes.written
                ],
            )
            for kind, key in changes.deleted:
                conn.execute(
                    delete(tables.state).where(
                        tables.state.c.consumer == self.name,
                        tables.state.c.kind == kind,
                        tables.state.c.key == key,
                    )
                )

    def reset(self) -> None:
        """Forget every example and all state: the next catch-up reads the log from 1
        (full retraining starts here)."""
        with self._writer() as conn:
            for table in (tables.examples, tables.state):
                conn.execute(delete(table).where(table.c.consumer == self.name))
            conn.execute(
                update(tables.checkpoints)
                .where(tables.checkpoints.c.name == self.name)
                .values(position=0)
            )
        self._tracker, self._position = None, -1

    # ------------------------------------------------------------------ reading examples
    def count(self) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).where(tables.examples.c.consumer == self.name)
            return int(conn.execute(query.select_from(tables.examples)).scalar_one())

    def examples(
        self, after: int = 0, until: int | None = None, limit: int | None = None
    ) -> list[Example]:
        """The examples that ended after log position ``after`` (up to ``until``), in log order."""
        t = tables.examples
        query = (
            select(t).where(t.c.consumer == self.name, t.c.position > after).order_by(t.c.position)
        )
        if until is not None:
            query = query.where(t.c.position <= until)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [self._example_of(row) for row in conn.execute(query)]

    def _example_row(self, example: Example) -> dict[str, Any]:
        facts = {
            "swarm_id": example.swarm_id,
            "task": dataclasses.asdict(example.task),
            "agent": dataclasses.asdict(example.agent),
            "swarm": dataclasses.asdict(example.swarm),
        }
        candidates = [
            {"agent_id": c.agent_id, "name": c.name, "agent": dataclasses.asdict(c.agent)}
            for c in example.candidates
        ]
        return {
            "consumer": self.name,
            "position": example.position,
            "task_id": example.task_id,
            "agent_id": example.agent_id,
            "facts": facts,
            "candidates": candidates,
            "outcome": example.outcome,
            "duration_seconds": example.duration_seconds,
            "duration_bucket": example.duration_bucket,
            "coordination": example.coordination,
        }

    @staticmethod
    def _example_of(row: Any) -> Example:
        facts = row.facts
        attempt = {
            "agent_id": row.agent_id,
            "agent": facts["agent"],
            "swarm": facts["swarm"],
            "candidates": row.candidates,
            "swarm_id": facts.get("swarm_id", ""),
        }
        example = example_of(
            row.position, row.task_id, facts["task"], attempt, row.outcome, row.duration_seconds
        )
        return dataclasses.replace(
            example, duration_bucket=row.duration_bucket, coordination=row.coordination
        )

    def agent_history(self, agent_ids: Sequence[str]) -> dict[str, tuple[list[int], int]]:
        """Each known agent's latest outcomes (1 completed, 0 not) and attempt count, as
        of the checkpoint: what :class:`~adapters.neural.strategy.NeuralStrategy` needs."""
        if not agent_ids:
            return {}
        t = tables.state
        query = select(t.c.key, t.c.row).where(
            t.c.consumer == self.name, t.c.kind == "agent", t.c.key.in_(list(agent_ids))
        )
        with self.engine.connect() as conn:
            return {
                row.key: (list(row.row["recent"]), int(row.row["attempts"]))
                for row in conn.execute(query)
            }

    def swarm_facts(self, swarm_id: str) -> SwarmFacts:
        """The swarm's topology and size as of the checkpoint (unknown: ``SwarmFacts()``)."""
        t = tables.state
        query = select(t.c.row).where(
            t.c.consumer == self.name, t.c.kind == "swarm", t.c.key == str(swarm_id)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).first()
        if found is None:
            return SwarmFacts()
        return SwarmFacts(found.row["topology"], len(found.row["members"]))

    # ------------------------------------------------------------------ helpers
    def _checkpoint(self, conn: Connection) -> int:
        found = conn.execute(
            select(tables.checkpoints.c.position).where(tables.checkpoints.c.name == self.name)
        ).first()
        return 0 if found is None else int(found[0])

    @contextmanager
    def _writer(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(writer=True)
            with conn.begin():
                yield conn
