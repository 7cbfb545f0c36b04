"""The aggregates one command touches; the bus saves them in one `save()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application.store import EventStore

A = TypeVar("A")


class UnitOfWork:
    """The aggregates one command changes (saved together) and those it only reads."""

    def __init__(self, store: EventStore, now: datetime) -> None:
        self.store = store
        self.now = now
        self._touched: dict[UUID, Any] = {}
        self._read: dict[UUID, Any] = {}

    def get(self, kind: type[A], aggregate_id: UUID) -> A:
        """An aggregate to change: a private copy, saved with the command."""
        aggregate = self._touched.get(aggregate_id)
        if aggregate is None:
            aggregate = self._touched[aggregate_id] = self.store.load(kind, aggregate_id)
        elif not isinstance(aggregate, kind):
            return self.store.load(kind, aggregate_id)  # raises NOT_FOUND
        return aggregate

    def read(self, kind: type[A], aggregate_id: UUID) -> A:
        """An aggregate only to look at: shared with the cache, so never to be changed."""
        if aggregate_id in self._touched:
            return self.get(kind, aggregate_id)
        aggregate = self._read.get(aggregate_id)
        if aggregate is None or not isinstance(aggregate, kind):
            aggregate = self._read[aggregate_id] = self.store.load(kind, aggregate_id, copy=False)
        return aggregate

    def add(self, aggregate: A) -> A:
        self._touched[aggregate.id] = aggregate  # type: ignore[attr-defined]
        return aggregate

    @property
    def aggregates(self) -> list[Any]:
        """What the command changes: the bus saves these."""
        return list(self._touched.values())

    @property
    def seen(self) -> list[Any]:
        """Everything the command's decision was based on."""
        return [*self._touched.values(), *self._read.values()]
