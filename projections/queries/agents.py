"""Queries of the agents read model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select

from projections.agents import AgentsProjection
from projections.columns import sid
from projections.queries._common import Bind, aware, fetch_all, fetch_one, page_size, utc

MAX_PAGE = 200
_agents = AgentsProjection().views()["agents"]


@dataclass(frozen=True)
class AgentView:
    agent_id: str
    name: str
    agent_type: str
    capabilities: tuple[str, ...]
    state: str
    swarm_id: str | None
    current_tasks: tuple[str, ...]
    load: int
    max_load: int
    completed_count: int
    failed_count: int
    success_rate: float
    version: int
    created_at: datetime
    updated_at: datetime | None


def _agent(row: RowMapping) -> AgentView:
    return AgentView(
        agent_id=row["agent_id"],
        name=row["name"],
        agent_type=row["agent_type"],
        capabilities=tuple(row["capabilities"]),
        state=row["state"],
        swarm_id=row["swarm_id"],
        current_tasks=tuple(row["current_tasks"]),
        load=row["load"],
        max_load=row["max_load"],
        completed_count=row["completed_count"],
        failed_count=row["failed_count"],
        success_rate=row["success_rate"],
        version=row["version"],
        created_at=utc(row["created_at"]),
        updated_at=aware(row["updated_at"]),
    )


def get_agent(bind: Bind, agent_id: Any) -> AgentView | None:
    row = fetch_one(bind, select(_agents).where(_agents.c.agent_id == sid(agent_id)))
    return _agent(row) if row is not None else None


def list_agents(
    bind: Bind,
    *,
    state: str | None = None,
    agent_type: str | None = None,
    swarm_id: Any = None,
    after: Any = None,
    limit: int = 50,
) -> list[AgentView]:
    """Agents in id order, from the one after ``after`` (the last id of the previous
    page); at most ``limit`` of them, and never more than 200."""
    query = select(_agents).order_by(_agents.c.agent_id).limit(page_size(limit, MAX_PAGE))
    if state is not None:
        query = query.where(_agents.c.state == state)
    if agent_type is not None:
        query = query.where(_agents.c.agent_type == agent_type)
    if swarm_id is not None:
        query = query.where(_agents.c.swarm_id == sid(swarm_id))
    if after is not None:
        query = query.where(_agents.c.agent_id > sid(after))
    return [_agent(row) for row in fetch_all(bind, query)]


def agents_by_id(bind: Bind, agent_ids: Iterable[Any]) -> dict[str, AgentView]:
    """The agents with these ids, by id, in one query (the unknown ones left out)."""
    keys = [key for key in {sid(i) for i in agent_ids} if key is not None]
    if not keys:
        return {}
    rows = fetch_all(bind, select(_agents).where(_agents.c.agent_id.in_(keys)))
    return {row["agent_id"]: _agent(row) for row in rows}
