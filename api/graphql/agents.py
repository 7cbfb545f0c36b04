"""Agents over GraphQL: the agent type, its queries and its mutations."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import strawberry
from sqlalchemy.exc import DBAPIError
from strawberry.types import Info

from api.graphql.commands import dispatch
from api.graphql.context import Context, selects
from api.graphql.errors import UserError
from api.graphql.scalars import Position
from application.bus import CommandResult
from application.commands import (
    PauseAgent,
    ResumeAgent,
    SpawnAgent,
    TerminateAgent,
    TransitionAgent,
)
from domain.agent import Agent
from projections.queries.agents import AgentView, get_agent, list_agents


@strawberry.type(name="Agent")
class AgentNode:
    id: strawberry.ID
    name: str
    agent_type: str
    capabilities: list[str]
    state: str
    load: int
    max_load: int
    completed_count: int
    failed_count: int
    success_rate: float
    swarm_id: strawberry.ID | None
    version: int

    @classmethod
    def from_view(cls, view: AgentView) -> AgentNode:
        return cls(
            id=strawberry.ID(view.agent_id),
            name=view.name,
            agent_type=view.agent_type,
            capabilities=list(view.capabilities),
            state=view.state,
            load=view.load,
            max_load=view.max_load,
            completed_count=view.completed_count,
            failed_count=view.failed_count,
            success_rate=view.success_rate,
            swarm_id=strawberry.ID(view.swarm_id) if view.swarm_id else None,
            version=view.version,
        )

    @classmethod
    def from_aggregate(cls, agent: Agent, swarm_id: str | None) -> AgentNode:
        return cls(
            id=strawberry.ID(str(agent.id)),
            name=agent.name,
            agent_type=agent.agent_type,
            capabilities=list(agent.capabilities),
            state=agent.state,
            load=agent.load,
            max_load=agent.max_load,
            completed_count=agent.completed_count,
            failed_count=agent.failed_count,
            success_rate=agent.success_rate,
            swarm_id=strawberry.ID(swarm_id) if swarm_id else None,
            version=agent.version,
        )


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class AgentConnection:
    nodes: list[AgentNode]
    page_info: PageInfo


@strawberry.type(description="The agent as it is after the command, and where its events landed.")
class AgentPayload:
    agent: AgentNode | None
    position: Position | None
    errors: list[UserError]


def _context(info: Info[Context, Any]) -> Context:
    return info.context


async def _read(info: Info[Context, Any], at_least: Position | None) -> Context:
    context: Context = info.context
    await context.read("agent:read", info.field_name, "agents", at_least)
    return context


@strawberry.type
class AgentQueries:
    @strawberry.field(description="One agent, from the agents read model.")
    async def agent(
        self, info: Info[Context, Any], id: strawberry.ID, at_least: Position | None = None
    ) -> AgentNode | None:
        context = await _read(info, at_least)
        view = await asyncio.to_thread(get_agent, context.runtime.runner.engine, str(id))
        return AgentNode.from_view(view) if view is not None else None

    @strawberry.field(description="Agents in id order; `first` is capped at 200.")
    async def agents(
        self,
        info: Info[Context, Any],
        first: int = 50,
        after: str | None = None,
        state: str | None = None,
        agent_type: str | None = None,
        swarm_id: strawberry.ID | None = None,
        at_least: Position | None = None,
    ) -> AgentConnection:
        context = await _read(info, at_least)
        size = max(1, min(first, 200))
        views = await asyncio.to_thread(
            list_agents,
            context.runtime.runner.engine,
            state=state,
            agent_type=agent_type,
            swarm_id=swarm_id,
            after=after,
            limit=size + 1,
        )
        page = views[:size]
        return AgentConnection(
            nodes=[AgentNode.from_view(v) for v in page],
            page_info=PageInfo(
                end_cursor=page[-1].agent_id if page else None, has_next_page=len(views) > size
            ),
        )


async def _agent_payload(
    info: Info[Context, Any], kind: type, data: dict[str, Any]
) -> AgentPayload:
    runtime = _context(info).runtime
    wants_swarm = selects(info, "agent", "swarmId")

    def present(result: CommandResult) -> AgentNode:
        agent = runtime.swarmlog.store.load(Agent, result.aggregate_id, copy=False)
        view = None
        # the agent's swarm is only in the read model: read it when asked for, and
        # answer without it if that fails (the command is done anyway)
        with contextlib.suppress(DBAPIError):
            view = get_agent(runtime.runner.engine, result.aggregate_id) if wants_swarm else None
        return AgentNode.from_aggregate(agent, view.swarm_id if view is not None else None)

    outcome = await dispatch(info, kind, data, present)
    if isinstance(outcome, list):
        return AgentPayload(agent=None, position=None, errors=outcome)
    result, node = outcome
    return AgentPayload(agent=node, position=Position(result.position), errors=[])


@strawberry.type
class AgentMutations:
    @strawberry.mutation
    async def spawn_agent(
        self,
        info: Info[Context, Any],
        name: str,
        agent_type: str,
        capabilities: list[str],
        max_load: int | None = None,
        idempotency_key: str | None = None,
    ) -> AgentPayload:
        data = {
            "name": name,
            "agent_type": agent_type,
            "capabilities": capabilities,
            "max_load": max_load,
            "idempotency_key": idempotency_key,
        }
        return await _agent_payload(info, SpawnAgent, data)

    @strawberry.mutation
    async def transition_agent(
        self, info: Info[Context, Any], agent_id: strawberry.ID, to_state: str, reason: str = ""
    ) -> AgentPayload:
        data = {"agent_id": agent_id, "to_state": to_state, "reason": reason}
        return await _agent_payload(info, TransitionAgent, data)

    @strawberry.mutation
    async def pause_agent(
        self, info: Info[Context, Any], agent_id: strawberry.ID, reason: str = ""
    ) -> AgentPayload:
        return await _agent_payload(info, PauseAgent, {"agent_id": agent_id, "reason": reason})

    @strawberry.mutation
    async def resume_agent(self, info: Info[Context, Any], agent_id: strawberry.ID) -> AgentPayload:
        return await _agent_payload(info, ResumeAgent, {"agent_id": agent_id})

    @strawberry.mutation
    async def terminate_agent(
        self, info: Info[Context, Any], agent_id: strawberry.ID, reason: str = ""
    ) -> AgentPayload:
        data = {"agent_id": agent_id, "reason": reason}
        return await _agent_payload(info, TerminateAgent, data)
