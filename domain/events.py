"""The catalogue of the log: every aggregate kind and every event class, by name.

An event's name is its class's qualified name (``Task.Completed``), which is what
the audit log shows and what the event log query and replay tools filter on.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.access import AccessRefusal
from domain.agent import Agent
from domain.base import SwarmlogAggregate
from domain.errors import ValidationError
from domain.neural import ModelRegistry
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task

AGGREGATES: tuple[type[SwarmlogAggregate], ...] = (
    Agent,
    Swarm,
    Task,
    Proposal,
    AccessRefusal,
    ModelRegistry,
)


def event_classes(aggregates: Iterable[type[SwarmlogAggregate]]) -> list[type]:
    """Every event class nested in the aggregates (but their bare ``Event`` bases), so a
    new event is catalogued without anyone having to list it here."""
    found: list[type] = []
    for aggregate in aggregates:
        for value in vars(aggregate).values():
            if (
                isinstance(value, type)
                and issubclass(value, SwarmlogAggregate.Event)
                and value is not aggregate.Event
                and value not in found
            ):
                found.append(value)
    return found


EVENT_CLASSES: tuple[type, ...] = tuple(event_classes(AGGREGATES))
EVENT_TYPES: dict[str, type] = {kind.__qualname__: kind for kind in EVENT_CLASSES}
AGGREGATE_TYPES: dict[str, type[SwarmlogAggregate]] = {kind.__name__: kind for kind in AGGREGATES}


def event_type(name: str) -> type:
    """The event class called ``name`` (``Task.Completed``); VALIDATION if none is."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise ValidationError(
            f"unknown event type {name[:100]!r}; event types are named like 'Task.Completed'",
            field="types",
        ) from None
