"""Live subscriptions over graphql-transport-ws: the event feed and the changes of one
agent, swarm or task.

Each follows the log itself (not a read model), from the position it was asked to
start after (the head when none was given), so nothing is missed between a query
and a subscription: pass the position the query was answered at. It wakes when a
command of this process commits and polls for the writes of other processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from api.graphql.agents import AgentNode
from api.graphql.context import Context
from api.graphql.log import EventNode
from api.graphql.scalars import Position
from api.graphql.swarm_types import SwarmNode
from api.graphql.tasks import TaskNode
from application.log import LoggedEvent, read_log, stream_ids, topics_of
from domain.agent import Agent
from domain.errors import DomainError
from domain.swarm import Swarm
from domain.task import Task
from projections.queries.agents import get_agent

POLL_SECONDS = 0.25
"""How often a subscription looks for events written by other processes."""
PAGE = 500


async def follow(
    context: Context,
    *,
    after: Position | None,
    types: Sequence[str] = (),
    streams: Sequence[Any] = (),
) -> AsyncGenerator[LoggedEvent, None]:
    """The events after position ``after`` (the head when None), then each new one."""
    store = context.runtime.swarmlog.store
    try:
        position = await asyncio.to_thread(store.head) if after is None else max(0, after)
        ids = stream_ids(streams)
        topics_of(types)  # an unknown type is refused now, not after the first wait
    except DomainError as error:
        raise context.error(error) from None
    while True:
        head = await asyncio.to_thread(store.head)
        if head > position:
            events = await asyncio.to_thread(
                read_log, store, start=position + 1, stop=head, types=types, streams=ids, limit=PAGE
            )
            for event in events:
                yield event
            position = events[-1].position if len(events) == PAGE else head
            continue
        await context.runtime.feed.wait(POLL_SECONDS)


@strawberry.type
class AgentChange:
    event: EventNode
    agent: AgentNode


@strawberry.type
class SwarmChange:
    event: EventNode
    swarm: SwarmNode


@strawberry.type
class TaskChange:
    event: EventNode
    task: TaskNode


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every event after position `after` (now, when not given), then live; "
        "only of the given types and streams when some are given."
    )
    async def events(
        self,
        info: Info[Context, Any],
        after: Position | None = None,
        types: list[str] | None = None,
        stream_ids: list[strawberry.ID] | None = None,
    ) -> AsyncGenerator[EventNode, None]:
        context: Context = info.context
        await context.read("events:read", info.field_name)
        async for event in follow(
            context, after=after, types=types or (), streams=stream_ids or ()
        ):
            yield EventNode.of(event)

    @strawberry.subscription(description="The agent after each of its events, live.")
    async def agent_changed(
        self, info: Info[Context, Any], id: strawberry.ID, after: Position | None = None
    ) -> AsyncGenerator[AgentChange, None]:
        engine = info.context.runtime.runner.engine
        async for event, agent in changes(info, "agent:read", Agent, id, after):
            view = await asyncio.to_thread(get_agent, engine, agent.id)
            node = AgentNode.from_aggregate(agent, view.swarm_id if view is not None else None)
            yield AgentChange(event=event, agent=node)

    @strawberry.subscription(description="The swarm after each of its events, live.")
    async def swarm_changed(
        self, info: Info[Context, Any], id: strawberry.ID, after: Position | None = None
    ) -> AsyncGenerator[SwarmChange, None]:
        async for event, swarm in changes(info, "swarm:read", Swarm, id, after):
            yield SwarmChange(event=event, swarm=SwarmNode.from_aggregate(swarm))

    @strawberry.subscription(description="The task after each of its events, live.")
    async def task_changed(
        self, info: Info[Context, Any], id: strawberry.ID, after: Position | None = None
    ) -> AsyncGenerator[TaskChange, None]:
        async for event, task in changes(info, "task:read", Task, id, after):
            yield TaskChange(event=event, task=TaskNode.from_aggregate(task))


async def changes(
    info: Info[Context, Any], permission: str, kind: type, stream: Any, after: Position | None
) -> AsyncGenerator[tuple[EventNode, Any], None]:
    """Each event of one aggregate's stream, with the aggregate as it was after it."""
    context: Context = info.context
    await context.read(permission, info.field_name)
    store = context.runtime.swarmlog.store
    async for event in follow(context, after=after, streams=[stream]):
        found = await asyncio.to_thread(store.load, kind, UUID(event.stream_id), event.version)
        yield EventNode.of(event), found
