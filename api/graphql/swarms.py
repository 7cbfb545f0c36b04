"""Swarms over GraphQL: the swarm queries and mutations (the types: swarm_types.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.agents import PageInfo
from api.graphql.commands import dispatch
from api.graphql.context import Context
from api.graphql.errors import UserError
from api.graphql.scalars import Position
from api.graphql.swarm_types import SwarmNode
from application.bus import CommandResult
from application.commands import (
    ChangeSwarmStrategy,
    InitSwarm,
    JoinSwarm,
    LeaveSwarm,
    OptimizeSwarm,
    ScaleSwarm,
    ShutdownSwarm,
)
from domain.swarm import Swarm
from projections.queries.swarms import get_swarm, list_swarms


@strawberry.type
class SwarmConnection:
    nodes: list[SwarmNode]
    page_info: PageInfo


@strawberry.type(description="The swarm as it is after the command, and where its events landed.")
class SwarmPayload:
    swarm: SwarmNode | None
    position: Position | None
    errors: list[UserError]


async def _read(info: Info[Context, Any], at_least: Position | None) -> Context:
    context: Context = info.context
    await context.read("swarm:read", info.field_name, "swarms", at_least)
    return context


@strawberry.type
class SwarmQueries:
    @strawberry.field(description="One swarm, from the swarms read model.")
    async def swarm(
        self, info: Info[Context, Any], id: strawberry.ID, at_least: Position | None = None
    ) -> SwarmNode | None:
        context = await _read(info, at_least)
        view = await asyncio.to_thread(get_swarm, context.runtime.runner.engine, str(id))
        return SwarmNode.from_view(view) if view is not None else None

    @strawberry.field(description="Swarms in id order; `first` is capped at 200.")
    async def swarms(
        self,
        info: Info[Context, Any],
        first: int = 50,
        after: str | None = None,
        at_least: Position | None = None,
    ) -> SwarmConnection:
        context = await _read(info, at_least)
        size = max(1, min(first, 200))
        views = await asyncio.to_thread(
            list_swarms, context.runtime.runner.engine, after=after, limit=size + 1
        )
        page = views[:size]
        return SwarmConnection(
            nodes=[SwarmNode.from_view(v) for v in page],
            page_info=PageInfo(
                end_cursor=page[-1].swarm_id if page else None, has_next_page=len(views) > size
            ),
        )


async def _swarm_payload(
    info: Info[Context, Any], kind: type, data: dict[str, Any]
) -> SwarmPayload:
    store = info.context.runtime.swarmlog.store

    def present(result: CommandResult) -> SwarmNode:
        return SwarmNode.from_aggregate(store.load(Swarm, result.aggregate_id, copy=False))

    outcome = await dispatch(info, kind, data, present)
    if isinstance(outcome, list):
        return SwarmPayload(swarm=None, position=None, errors=outcome)
    result, node = outcome
    return SwarmPayload(swarm=node, position=Position(result.position), errors=[])


@strawberry.type
class SwarmMutations:
    @strawberry.mutation
    async def init_swarm(
        self,
        info: Info[Context, Any],
        name: str,
        topology: str,
        strategy: str | None = None,
        max_agents: int | None = None,
        max_depth: int | None = None,
        branching_factor: int | None = None,
        idempotency_key: str | None = None,
    ) -> SwarmPayload:
        data = {
            "name": name,
            "topology": topology,
            "strategy": strategy,
            "max_agents": max_agents,
            "max_depth": max_depth,
            "branching_factor": branching_factor,
            "idempotency_key": idempotency_key,
        }
        return await _swarm_payload(info, InitSwarm, data)

    @strawberry.mutation
    async def join_swarm(
        self, info: Info[Context, Any], swarm_id: strawberry.ID, agent_id: strawberry.ID
    ) -> SwarmPayload:
        data = {"swarm_id": swarm_id, "agent_id": agent_id}
        return await _swarm_payload(info, JoinSwarm, data)

    @strawberry.mutation
    async def leave_swarm(
        self,
        info: Info[Context, Any],
        swarm_id: strawberry.ID,
        agent_id: strawberry.ID,
        reason: str = "",
    ) -> SwarmPayload:
        data = {"swarm_id": swarm_id, "agent_id": agent_id, "reason": reason}
        return await _swarm_payload(info, LeaveSwarm, data)

    @strawberry.mutation
    async def scale_swarm(
        self, info: Info[Context, Any], swarm_id: strawberry.ID, max_agents: int
    ) -> SwarmPayload:
        data = {"swarm_id": swarm_id, "max_agents": max_agents}
        return await _swarm_payload(info, ScaleSwarm, data)

    @strawberry.mutation
    async def optimize_swarm(
        self, info: Info[Context, Any], swarm_id: strawberry.ID
    ) -> SwarmPayload:
        return await _swarm_payload(info, OptimizeSwarm, {"swarm_id": swarm_id})

    @strawberry.mutation
    async def shutdown_swarm(
        self, info: Info[Context, Any], swarm_id: strawberry.ID, reason: str = ""
    ) -> SwarmPayload:
        data = {"swarm_id": swarm_id, "reason": reason}
        return await _swarm_payload(info, ShutdownSwarm, data)

    @strawberry.mutation(description="Change how the swarm assigns its tasks.")
    async def change_swarm_strategy(
        self, info: Info[Context, Any], swarm_id: strawberry.ID, strategy: str
    ) -> SwarmPayload:
        data = {"swarm_id": swarm_id, "strategy": strategy}
        return await _swarm_payload(info, ChangeSwarmStrategy, data)
