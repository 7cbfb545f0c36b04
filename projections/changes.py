"""The rows a batch of events changes, kept in memory and written back in bulk."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, select, tuple_

from projections.database import upsert

Key = tuple[Any, ...]


class Changes:
    """A unit of work over read-model rows for one batch of events.

    A projector reads a row once (later reads hit memory), changes the dict it gets,
    and marks it with ``put``; ``flush`` writes every changed row with one upsert per
    table and every removal with one delete.
    """

    def __init__(
        self, conn: Connection, tables: dict[str, Table], *, keep_originals: bool = False
    ) -> None:
        self.conn = conn
        self.tables = tables
        self._rows: dict[str, dict[Key, dict[str, Any] | None]] = defaultdict(dict)
        self._dirty: dict[str, set[Key]] = defaultdict(set)
        self._originals: dict[str, dict[Key, dict[str, Any] | None]] | None = (
            defaultdict(dict) if keep_originals else None
        )

    def _key(self, name: str, key: Any) -> Key:
        return key if isinstance(key, tuple) else (key,)

    def prefetch(self, name: str, keys: list[Any]) -> None:
        """Load many rows with one query (keys not found are remembered as absent).

        Keys must compare equal to what the database gives back (so no tz-aware
        datetimes in keys: SQLite returns them naive).
        """
        table = self.tables[name]
        wanted = {self._key(name, k) for k in keys} - self._rows[name].keys()
        if not wanted:
            return
        columns = list(table.primary_key.columns)
        for row in self.conn.execute(
            select(table).where(tuple_(*columns).in_(list(wanted)))
            if len(columns) > 1
            else select(table).where(columns[0].in_([k[0] for k in wanted]))
        ).mappings():
            found = tuple(row[c.name] for c in columns)
            self._loaded(name, found, dict(row))
            wanted.discard(found)
        for missing in wanted:
            self._loaded(name, missing, None)

    def get(self, name: str, key: Any) -> dict[str, Any] | None:
        """The row with this primary key (a mutable dict), or None."""
        key = self._key(name, key)
        cache = self._rows[name]
        if key not in cache:
            table = self.tables[name]
            columns = list(table.primary_key.columns)
            found = (
                self.conn.execute(
                    select(table).where(and_(*(c == v for c, v in zip(columns, key, strict=True))))
                )
                .mappings()
                .first()
            )
            self._loaded(name, key, dict(found) if found is not None else None)
        return cache[key]

    def _loaded(self, name: str, key: Key, row: dict[str, Any] | None) -> None:
        self._rows[name][key] = row
        if self._originals is not None:
            self._originals[name][key] = dict(row) if row is not None else None

    def put(self, name: str, row: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace ``row``; returns it."""
        table = self.tables[name]
        key = tuple(row[c.name] for c in table.primary_key.columns)
        self._rows[name][key] = row
        self._dirty[name].add(key)
        return row

    def update(self, name: str, key: Any, **values: Any) -> dict[str, Any] | None:
        """Change some columns of an existing row; None when there is no such row."""
        row = self.get(name, key)
        if row is not None:
            row.update(values)
            self._dirty[name].add(self._key(name, key))
        return row

    def remove(self, name: str, key: Any) -> None:
        key = self._key(name, key)
        self.get(name, key)
        self._rows[name][key] = None
        self._dirty[name].add(key)

    def diff(self) -> list[tuple[str, Key, dict[str, Any] | None, dict[str, Any] | None]]:
        """Each changed row as (table, key, before, after), where they differ; needs
        ``keep_originals`` (a row never read before being put counts as new)."""
        assert self._originals is not None, "made without keep_originals"
        found = []
        for name, keys in self._dirty.items():
            for key in sorted(keys, key=repr):
                before = self._originals[name].get(key)
                after = self._rows[name][key]
                if comparable(before) != comparable(after):
                    found.append((name, key, before, after))
        return found

    def flush(self) -> int:
        """Write every changed row; returns how many rows were written or removed."""
        written = 0
        for name, keys in self._dirty.items():
            table = self.tables[name]
            rows = [self._rows[name][k] for k in keys]
            upsert(self.conn, table, [r for r in rows if r is not None])
            gone = [k for k, r in zip(keys, rows, strict=True) if r is None]
            if gone:
                columns = list(table.primary_key.columns)
                self.conn.execute(delete(table).where(tuple_(*columns).in_(gone)))
            written += len(keys)
        self._dirty.clear()
        return written


def comparable(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """The row with naive datetimes read as UTC (SQLite gives back naive ones)."""
    if row is None:
        return None
    return {
        k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v
        for k, v in row.items()
    }
