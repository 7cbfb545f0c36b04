"""Queries of the swarms read model; a swarm's links come from the domain's topology."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select

from domain import topology as topo
from domain.topology import Member
from projections.columns import sid
from projections.queries._common import Bind, aware, fetch_all, fetch_one, page_size, utc
from projections.swarms import SwarmsProjection

MAX_PAGE = 200
_views = SwarmsProjection().views()
_swarms = _views["swarms"]
_members = _views["swarm_members"]


@dataclass(frozen=True)
class SwarmView:
    swarm_id: str
    name: str
    topology: str
    strategy: str
    max_agents: int
    max_depth: int
    branching_factor: int
    status: str
    leader_id: str | None
    member_count: int
    created_at: datetime
    updated_at: datetime | None
    version: int


@dataclass(frozen=True)
class MemberView:
    agent_id: str
    agent_type: str
    capabilities: tuple[str, ...]
    parent_id: str | None
    depth: int
    position: int
    joined_at: datetime | None


@dataclass(frozen=True)
class SwarmMembers:
    """A swarm's members in join order, and its topology's links between them."""

    swarm: SwarmView
    members: tuple[MemberView, ...]
    links: tuple[tuple[str, str], ...]


def _swarm(row: RowMapping) -> SwarmView:
    return SwarmView(
        swarm_id=row["swarm_id"],
        name=row["name"],
        topology=row["topology"],
        strategy=row["strategy"],
        max_agents=row["max_agents"],
        max_depth=row["max_depth"],
        branching_factor=row["branching_factor"],
        status=row["status"],
        leader_id=row["leader_id"],
        member_count=row["member_count"],
        created_at=utc(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        version=row["version"],
    )


def get_swarm(bind: Bind, swarm_id: Any) -> SwarmView | None:
    row = fetch_one(bind, select(_swarms).where(_swarms.c.swarm_id == sid(swarm_id)))
    return _swarm(row) if row is not None else None


def list_swarms(
    bind: Bind,
    *,
    status: str | None = None,
    topology: str | None = None,
    after: Any = None,
    limit: int = 50,
) -> list[SwarmView]:
    """Swarms in id order, from the one after ``after``; at most ``limit`` (cap 200)."""
    query = select(_swarms).order_by(_swarms.c.swarm_id).limit(page_size(limit, MAX_PAGE))
    if status is not None:
        query = query.where(_swarms.c.status == status)
    if topology is not None:
        query = query.where(_swarms.c.topology == topology)
    if after is not None:
        query = query.where(_swarms.c.swarm_id > sid(after))
    return [_swarm(row) for row in fetch_all(bind, query)]


def swarm_members(bind: Bind, swarm_id: Any) -> SwarmMembers | None:
    """The swarm's members and links; None when there is no such swarm."""
    swarm = get_swarm(bind, swarm_id)
    if swarm is None:
        return None
    members = members_of(bind, [swarm.swarm_id])[swarm.swarm_id]
    placed = {
        m.agent_id: Member(
            agent_type=m.agent_type,
            capabilities=list(m.capabilities),
            parent_id=m.parent_id,
            depth=m.depth,
            position=m.position,
        )
        for m in members
    }
    links = topo.links(swarm.topology, placed, swarm.leader_id)
    return SwarmMembers(swarm, members, tuple(links))


def _member(row: RowMapping) -> MemberView:
    return MemberView(
        agent_id=row["agent_id"],
        agent_type=row["agent_type"],
        capabilities=tuple(row["capabilities"]),
        parent_id=row["parent_id"],
        depth=row["depth"],
        position=row["position"],
        joined_at=aware(row["joined_at"]),
    )


def members_of(bind: Bind, swarm_ids: Iterable[Any]) -> dict[str, tuple[MemberView, ...]]:
    """The members of each of these swarms in join order, in one query."""
    keys = [key for key in {sid(i) for i in swarm_ids} if key is not None]
    found: dict[str, list[MemberView]] = {key: [] for key in keys}
    if keys:
        rows = fetch_all(
            bind,
            select(_members)
            .where(_members.c.swarm_id.in_(keys))
            .order_by(_members.c.swarm_id, _members.c.position, _members.c.agent_id),
        )
        for row in rows:
            found[row["swarm_id"]].append(_member(row))
    return {key: tuple(members) for key, members in found.items()}
