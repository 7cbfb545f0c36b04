"""What a projection is: named tables of a read model and a handler per event type.

A projection owns its tables. Each build of them is a *generation*: physical tables
``<table>__g<N>``, read through a view named ``<table>`` that points at the live
generation. A rebuild fills generation N+1 beside the live one and then swaps the
views in one transaction, so readers never see an empty or half-built table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

from eventsourcing.utils import get_topic
from sqlalchemy import Column, MetaData, Table

from projections.changes import Changes

Handler = Callable[[Any, Changes, Any], None]


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projector method as the handler of these event classes."""

    def mark(method: Handler) -> Handler:
        method.__dict__["handles"] = event_classes
        return method

    return mark


class Projection:
    """A read model: its tables (as column lists) and its handlers.

    ``version`` changes when the tables or the handlers change meaning; a projection
    whose stored version differs is rebuilt.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    on_error: ClassVar[str] = "park"
    """What a failing event does after its retries: "park" it and go on, or "halt"."""
    columns: ClassVar[dict[str, Callable[[], list[Column[Any]]]]]
    """Logical table name -> a function making its columns (fresh objects each call)."""

    _handlers: ClassVar[dict[type, str]] = {}
    """Event class -> name of the method that handles it (inherited; overridable by name)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = dict(cls._handlers)
        for attribute, value in vars(cls).items():
            for event_class in getattr(value, "handles", ()):
                cls._handlers[event_class] = attribute

    @property
    def topics(self) -> list[str]:
        return [get_topic(kind) for kind in self._handlers]

    @cached_property
    def topic_set(self) -> frozenset[str]:
        return frozenset(self.topics)

    def apply(self, changes: Changes, event: Any) -> None:
        getattr(self, self._handlers[type(event)])(changes, event)

    def prefetch(self, changes: Changes, events: list[Any]) -> None:
        """Load in bulk the rows a batch will touch (optional; speeds up large batches)."""

    def tables(self, generation: int, metadata: MetaData | None = None) -> dict[str, Table]:
        """The physical tables of one generation."""
        metadata = metadata or MetaData()
        return {
            logical: Table(physical_name(logical, generation), metadata, *make())
            for logical, make in self.columns.items()
        }

    def views(self, metadata: MetaData | None = None) -> dict[str, Table]:
        """The logical tables (views onto the live generation) that queries read."""
        metadata = metadata or MetaData()
        return {
            logical: Table(logical, metadata, *make()) for logical, make in self.columns.items()
        }


def physical_name(logical: str, generation: int) -> str:
    return f"{logical}__g{generation}"
