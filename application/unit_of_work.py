"""The aggregates one command touches; the bus saves them in one `save()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application.store import EventStore

A = TypeVar("A")


class UnitOfWork:
    """Loads each aggregate once per attempt and remembers it for the save."""

    def __init__(self, store: EventStore, now: datetime) -> None:
        self.store = store
        self.now = now
        self._touched: dict[UUID, Any] = {}

    def get(self, kind: type[A], aggregate_id: UUID) -> A:
        if aggregate_id not in self._touched:
            self._touched[aggregate_id] = self.store.load(kind, aggregate_id)
        aggregate = self._touched[aggregate_id]
        if not isinstance(aggregate, kind):
            return self.store.load(kind, aggregate_id)  # raises NOT_FOUND
        return aggregate

    def add(self, aggregate: A) -> A:
        self._touched[aggregate.id] = aggregate  # type: ignore[attr-defined]
        return aggregate

    @property
    def aggregates(self) -> list[Any]:
        return list(self._touched.values())
