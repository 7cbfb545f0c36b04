"""The event log over GraphQL: events filtered by stream, type and position, and any
aggregate as it was at a version or a moment (time travel), read from the store."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.scalars import Position
from application.log import LoggedEvent, read_log
from application.time_travel import aggregate_at, state_of
from domain.errors import DomainError

MAX_PAGE = 1000
START = Position(0)
"""Before the first event."""


@strawberry.type(name="Event", description="One event of the log, with its metadata.")
class EventNode:
    position: Position
    stream_id: strawberry.ID
    version: int
    type: str
    timestamp: datetime
    actor: str
    correlation_id: str
    causation_id: str
    payload: JSON

    @classmethod
    def of(cls, event: LoggedEvent) -> EventNode:
        return cls(
            position=Position(event.position),
            stream_id=strawberry.ID(event.stream_id),
            version=event.version,
            type=event.type,
            timestamp=event.timestamp,
            actor=event.actor,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            payload=JSON(event.payload),
        )


@strawberry.type
class EventPageInfo:
    end_position: Position | None
    has_next_page: bool


@strawberry.type
class EventConnection:
    nodes: list[EventNode]
    page_info: EventPageInfo


@strawberry.type(description="An aggregate as it was, rebuilt from its events.")
class AggregateState:
    stream_id: strawberry.ID
    type: str
    version: int
    timestamp: datetime
    state: JSON


@strawberry.type
class LogQueries:
    @strawberry.field(
        description="Events in log order after position `after` up to `toPosition`, of the "
        "given streams and types (named like 'Task.Completed'); `first` is capped at 1000."
    )
    async def event_log(
        self,
        info: Info[Context, Any],
        first: int = 100,
        after: Position = START,
        to_position: Position | None = None,
        stream_ids: list[strawberry.ID] | None = None,
        types: list[str] | None = None,
    ) -> EventConnection:
        context: Context = info.context
        await context.read("events:read", info.field_name)
        size = max(1, min(first, MAX_PAGE))
        try:
            events = await asyncio.to_thread(
                read_log,
                context.runtime.swarmlog.store,
                start=max(0, after) + 1,
                stop=to_position,
                types=types or (),
                streams=stream_ids or (),
                limit=size + 1,
            )
        except DomainError as error:
            raise context.error(error) from None
        page = events[:size]
        return EventConnection(
            nodes=[EventNode.of(e) for e in page],
            page_info=EventPageInfo(
                end_position=Position(page[-1].position) if page else None,
                has_next_page=len(events) > size,
            ),
        )

    @strawberry.field(
        description="An aggregate as it was at `version`, or at the moment `at`; as it is "
        "now when neither is given. Read from the event store, not from a read model."
    )
    async def aggregate_at(
        self,
        info: Info[Context, Any],
        stream_id: strawberry.ID,
        version: int | None = None,
        at: datetime | None = None,
    ) -> AggregateState:
        context: Context = info.context
        await context.read("events:read", info.field_name)
        store = context.runtime.swarmlog.store
        try:
            aggregate = await asyncio.to_thread(
                aggregate_at, store, stream_id, version=version, at=at
            )
        except DomainError as error:
            raise context.error(error) from None
        return AggregateState(
            stream_id=strawberry.ID(str(aggregate.id)),
            type=type(aggregate).__name__,
            version=aggregate.version,
            timestamp=aggregate.modified_on,
            state=JSON(state_of(aggregate)),
        )
