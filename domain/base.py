"""The base every aggregate of swarmlog builds on.

Each event carries who caused it and why: the actor, a correlation id and a
causation id. The command bus sets them in :data:`event_context` for the span of
one command; the aggregates read it when they trigger an event, so no handler
and no aggregate method ever passes them by hand. The context also carries the
bus's clock: an event's timestamp is the time of the command that caused it
(the wall clock, or a simulated one).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.domain import Aggregate


@dataclass(frozen=True)
class EventContext:
    actor: str = "system"
    correlation_id: str = ""
    causation_id: str = ""
    now: datetime | None = None


event_context: ContextVar[EventContext] = ContextVar(
    "event_context",
    default=EventContext(),  # noqa: B039 (frozen, immutable)
)


def _stamp(kwargs: dict[str, Any]) -> dict[str, Any]:
    ctx = event_context.get()
    kwargs.setdefault("actor", ctx.actor)
    kwargs.setdefault("correlation_id", ctx.correlation_id)
    kwargs.setdefault("causation_id", ctx.causation_id)
    return kwargs


class SwarmlogAggregate(Aggregate):
    """An eventsourcing aggregate whose events are stamped with their context.

    Aggregate state and event fields hold only JSON-friendly values (str, int,
    float, bool, None, list, dict with str keys, UUID, datetime) so events and
    snapshots round-trip through the store unchanged.
    """

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str
        causation_id: str

        @staticmethod
        def create_timestamp() -> datetime:
            return event_context.get().now or datetime.now(UTC)

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:
        return super()._create(event_class, **_stamp(kwargs))

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        super().trigger_event(event_class, **_stamp(kwargs))
