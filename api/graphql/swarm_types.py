"""The GraphQL types of a swarm: the swarm with its members, their links and loads."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from domain import topology as topo
from domain.errors import DomainError
from domain.swarm import Swarm
from domain.topology import Member
from projections.queries.agents import agents_by_id
from projections.queries.swarms import MemberView, SwarmView, members_of


@strawberry.type(name="SwarmMember")
class SwarmMemberNode:
    agent_id: strawberry.ID
    agent_type: str
    capabilities: list[str]
    parent_id: strawberry.ID | None
    depth: int
    position: int

    @classmethod
    def from_view(cls, view: MemberView) -> SwarmMemberNode:
        return cls(
            agent_id=strawberry.ID(view.agent_id),
            agent_type=view.agent_type,
            capabilities=list(view.capabilities),
            parent_id=strawberry.ID(view.parent_id) if view.parent_id else None,
            depth=view.depth,
            position=view.position,
        )


@strawberry.type
class Link:
    source: strawberry.ID
    target: strawberry.ID


@strawberry.type
class MemberLoad:
    agent_id: strawberry.ID
    load: int


@strawberry.type(description="imbalance is the population standard deviation over the mean.")
class LoadDistribution:
    members: list[MemberLoad]
    total: float
    mean: float
    max: float
    min: float
    imbalance: float


@strawberry.type(name="Swarm")
class SwarmNode:
    id: strawberry.ID
    name: str
    topology: str
    strategy: str
    max_agents: int
    max_depth: int
    branching_factor: int
    status: str
    leader_id: strawberry.ID | None
    member_count: int
    version: int
    known_members: strawberry.Private[list[SwarmMemberNode] | None] = None

    @strawberry.field(description="The swarm's members in join order, with their placement.")
    async def members(self, info: Info[Context, Any]) -> list[SwarmMemberNode]:
        if self.known_members is not None:
            return self.known_members
        found = await info.context.loader(members_of).load(str(self.id))
        return [SwarmMemberNode.from_view(m) for m in found or ()]

    async def _placed(self, info: Info[Context, Any]) -> dict[str, Member]:
        members = await self.members(info)
        return {
            str(m.agent_id): Member(
                agent_type=m.agent_type,
                capabilities=list(m.capabilities),
                parent_id=str(m.parent_id) if m.parent_id else None,
                depth=m.depth,
                position=m.position,
            )
            for m in members
        }

    @strawberry.field(description="The topology's links between members, in join order.")
    async def links(self, info: Info[Context, Any]) -> list[Link]:
        placed = await self._placed(info)
        leader = str(self.leader_id) if self.leader_id else None
        return [
            Link(source=strawberry.ID(a), target=strawberry.ID(b))
            for a, b in topo.links(self.topology, placed, leader)
        ]

    @strawberry.field(description="The shortest route between two members along the links.")
    async def path(
        self, info: Info[Context, Any], source: strawberry.ID, target: strawberry.ID
    ) -> list[strawberry.ID]:
        placed = await self._placed(info)
        leader = str(self.leader_id) if self.leader_id else None
        try:
            route = topo.optimal_path(self.topology, placed, str(source), str(target), leader)
        except DomainError as error:
            raise info.context.error(error) from None
        return [strawberry.ID(node) for node in route]

    @strawberry.field(description="The members' loads (tasks in hand) and how even they are.")
    async def load_distribution(self, info: Info[Context, Any]) -> LoadDistribution:
        members = [str(m.agent_id) for m in await self.members(info)]
        agents = await info.context.loader(agents_by_id).load_many(members)
        loads = {m: (a.load if a is not None else 0) for m, a in zip(members, agents, strict=True)}
        spread = topo.load_distribution(loads)
        return LoadDistribution(
            members=[MemberLoad(agent_id=strawberry.ID(m), load=load) for m, load in loads.items()],
            total=spread["total"],
            mean=spread["mean"],
            max=spread["max"],
            min=spread["min"],
            imbalance=spread["imbalance"],
        )

    @classmethod
    def from_view(cls, view: SwarmView) -> SwarmNode:
        return cls(
            id=strawberry.ID(view.swarm_id),
            name=view.name,
            topology=view.topology,
            strategy=view.strategy,
            max_agents=view.max_agents,
            max_depth=view.max_depth,
            branching_factor=view.branching_factor,
            status=view.status,
            leader_id=strawberry.ID(view.leader_id) if view.leader_id else None,
            member_count=view.member_count,
            version=view.version,
        )

    @classmethod
    def from_aggregate(cls, swarm: Swarm) -> SwarmNode:
        members = sorted(swarm.members.items(), key=lambda item: (item[1]["position"], item[0]))
        return cls(
            id=strawberry.ID(str(swarm.id)),
            name=swarm.name,
            topology=swarm.topology,
            strategy=swarm.strategy,
            max_agents=swarm.max_agents,
            max_depth=swarm.max_depth,
            branching_factor=swarm.branching_factor,
            status=swarm.status,
            leader_id=strawberry.ID(swarm.leader_id) if swarm.leader_id else None,
            member_count=len(swarm.members),
            version=swarm.version,
            known_members=[
                SwarmMemberNode(
                    agent_id=strawberry.ID(agent_id),
                    agent_type=member["agent_type"],
                    capabilities=list(member["capabilities"]),
                    parent_id=strawberry.ID(member["parent_id"]) if member["parent_id"] else None,
                    depth=member["depth"],
                    position=member["position"],
                )
                for agent_id, member in members
            ],
        )
