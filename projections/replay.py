"""Replaying a range of the log into a projection, without touching its checkpoint.

For debugging a projector: see which rows a range of events would change (a dry
run, written nowhere), or apply the range to the live tables again (the checkpoint
stays where it is, so the worker carries on as before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.log import pages
from projections.changes import Changes, comparable
from projections.projection import Projection
from projections.runner import ProjectionRunner


@dataclass(frozen=True)
class RowChange:
    table: str
    key: tuple[Any, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def columns(self) -> list[str]:
        """The columns whose values differ (all of them for an insert or a delete)."""
        before, after = comparable(self.before) or {}, comparable(self.after) or {}
        return sorted(k for k in {*before, *after} if before.get(k) != after.get(k))

    @property
    def kind(self) -> str:
        if self.before is None:
            return "insert"
        return "delete" if self.after is None else "update"


@dataclass(frozen=True)
class ReplayResult:
    events: int
    changes: list[RowChange]
    written: bool


def replay_into(
    runner: ProjectionRunner,
    projection: Projection,
    *,
    start: int = 1,
    stop: int | None = None,
    dry_run: bool = True,
) -> ReplayResult:
    """Apply the events of ``start..stop`` the projection handles to its live tables:
    only in memory with ``dry_run`` (the result lists what would change), else
    written in one transaction; its checkpoint is not moved either way."""
    store = runner.store
    with runner.writer() as conn:
        generation = runner.status_row(conn, projection.name).generation
        tables = runner.generation_tables(projection, generation)
        changes = Changes(conn, tables, keep_originals=True)
        events = 0
        for page in pages(store, start=start, stop=stop, topics=projection.topics):
            decoded = [store.decode(n) for n in page]
            projection.prefetch(changes, decoded)
            for event in decoded:
                projection.apply(changes, event)
            events += len(decoded)
        found = [RowChange(*change) for change in changes.diff()]
        if not dry_run:
            changes.flush()
    return ReplayResult(events=events, changes=found, written=not dry_run)
