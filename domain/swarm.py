"""The Swarm aggregate: a set of agents arranged in a topology, with a leader.

Invariants (after every operation):
- ``len(members) <= max_agents``.
- Hierarchical: the members form one tree rooted at the leader; every
  ``parent_id`` is a member, ``depth < max_depth`` and no member has more than
  ``branching_factor`` children.
- Other topologies: every member has ``parent_id`` None and depth 0; the leader
  is the earliest-joined member unless it left (then the next earliest).
- A shut-down swarm accepts no join, scale or optimize; members may still leave.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain import swarm_rules as rules
from domain import topology as topo
from domain.agent import AgentType
from domain.base import SwarmlogAggregate
from domain.swarm_rules import Strategy as Strategy
from domain.swarm_rules import SwarmStatus as SwarmStatus
from domain.swarm_rules import Topology as Topology
from domain.topology import Member
from domain.validation import (
    normalize_capabilities,
    parse_enum,
    validate_int,
    validate_name,
)


class Swarm(SwarmlogAggregate):
    """A swarm of agents. See the module docstring for its invariants."""

    class Initialized(SwarmlogAggregate.Created):
        name: str
        topology: str
        strategy: str
        max_agents: int
        max_depth: int
        branching_factor: int

    class MemberJoined(SwarmlogAggregate.Event):
        agent_id: str
        agent_type: str
        capabilities: list[str]
        parent_id: str | None
        depth: int
        position: int

    class MemberLeft(SwarmlogAggregate.Event):
        agent_id: str
        reason: str
        replacements: list[dict[str, Any]]

    class LeaderElected(SwarmlogAggregate.Event):
        agent_id: str

    class Scaled(SwarmlogAggregate.Event):
        from_max: int
        to_max: int

    class Optimized(SwarmlogAggregate.Event):
        placements: list[dict[str, Any]]

    class StrategyChanged(SwarmlogAggregate.Event):
        from_strategy: str
        to_strategy: str

    class ShutDown(SwarmlogAggregate.Event):
        reason: str

    @classmethod
    def init(
        cls,
        name: str,
        topology: Topology | str,
        strategy: Strategy | str = Strategy.BALANCED,
        max_agents: int = 10,
        max_depth: int = 3,
        branching_factor: int = 3,
    ) -> Swarm:
        return cls(
            name=validate_name(name),
            topology=parse_enum(Topology, topology, "topology").value,
            strategy=parse_enum(Strategy, strategy, "strategy").value,
            max_agents=validate_int(max_agents, "max_agents", 1, 1000),
            max_depth=validate_int(max_depth, "max_depth", 1, 10),
            branching_factor=validate_int(branching_factor, "branching_factor", 1, 50),
        )

    @event(Initialized)
    def __init__(
        self,
        name: str,
        topology: str,
        strategy: str,
        max_agents: int,
        max_depth: int,
        branching_factor: int,
    ) -> None:
        self.name = name
        self.topology = topology
        self.strategy = strategy
        self.max_agents = max_agents
        self.max_depth = max_depth
        self.branching_factor = branching_factor
        self.status: str = SwarmStatus.ACTIVE.value
        self.leader_id: str | None = None
        self.members: dict[str, Member] = {}
        self.next_position = 0

    @property
    def is_hierarchical(self) -> bool:
        return self.topology == Topology.HIERARCHICAL

    def join(
        self,
        agent_id: UUID | str,
        agent_type: AgentType | str,
        capabilities: Iterable[str],
    ) -> None:
        rules.require_active(self.status, "accept members")
        key = str(agent_id)
        rules.check_can_join(self.members, key, self.max_agents)
        kind = parse_enum(AgentType, agent_type, "agent_type").value
        caps = normalize_capabilities(capabilities)
        parent, depth = rules.placement_on_join(
            self.topology, self.members, caps, self.max_depth, self.branching_factor
        )
        self._join(
            agent_id=key,
            agent_type=kind,
            capabilities=caps,
            parent_id=parent,
            depth=depth,
            position=self.next_position,
        )
        if self.leader_id is None:
            self._elect(agent_id=key)

    def leave(self, agent_id: UUID | str, reason: str = "") -> None:
        """Children of a leaving hierarchical node are re-placed with their subtrees."""
        key = rules.require_member(self.members, agent_id, self.name)
        replacements = rules.replacements_on_leave(
            self.topology, self.members, key, self.max_depth, self.branching_factor
        )
        was_leader = self.leader_id == key
        self._leave(agent_id=key, reason=reason, replacements=replacements)
        if was_leader and self.members:
            self._elect(agent_id=rules.successor(self.topology, self.members))

    def scale(self, max_agents: int) -> None:
        rules.require_active(self.status, "scale")
        validate_int(max_agents, "max_agents", 1, 1000)
        rules.check_can_scale(self.members, max_agents)
        if max_agents != self.max_agents:
            self._scale(from_max=self.max_agents, to_max=max_agents)

    def optimize(self) -> None:
        """Re-place every member for balance (hierarchical: rebuild the tree)."""
        rules.require_active(self.status, "be optimized")
        placements = rules.optimized_placements(
            self.topology, self.members, self.leader_id, self.max_depth, self.branching_factor
        )
        self._optimize(placements=placements)

    def change_strategy(self, strategy: str) -> None:
        rules.require_active(self.status, "change strategy")
        new = parse_enum(Strategy, strategy, "strategy")
        if new != self.strategy:
            self._change_strategy(from_strategy=self.strategy, to_strategy=new.value)

    def shut_down(self, reason: str = "") -> None:
        rules.require_active(self.status, "shut down again")
        self._shut_down(reason=reason)

    def children_of(self, agent_id: UUID | str) -> list[str]:
        key = rules.require_member(self.members, agent_id, self.name)
        return topo.children_map(self.members)[key]

    def optimal_path(self, a: UUID | str, b: UUID | str) -> list[str]:
        return topo.optimal_path(self.topology, self.members, str(a), str(b), self.leader_id)

    def links(self) -> list[tuple[str, str]]:
        return topo.links(self.topology, self.members, self.leader_id)

    def load_distribution(self, loads: Mapping[str, int | float]) -> dict[str, Any]:
        """Only members count; a member missing from ``loads`` counts 0."""
        return topo.load_distribution(rules.member_loads(self.members, loads))

    @event(MemberJoined)
    def _join(
        self,
        agent_id: str,
        agent_type: str,
        capabilities: list[str],
        parent_id: str | None,
        depth: int,
        position: int,
    ) -> None:
        self.members[agent_id] = Member(
            agent_type=agent_type,
            capabilities=list(capabilities),
            parent_id=parent_id,
            depth=depth,
            position=position,
        )
        self.next_position = max(self.next_position, position + 1)

    @event(LeaderElected)
    def _elect(self, agent_id: str) -> None:
        self.leader_id = agent_id

    @event(MemberLeft)
    def _leave(self, agent_id: str, reason: str, replacements: list[dict[str, Any]]) -> None:
        self.members.pop(agent_id, None)
        for r in replacements:
            if r["agent_id"] in self.members:
                self.members[r["agent_id"]]["parent_id"] = r["parent_id"]
                self.members[r["agent_id"]]["depth"] = r["depth"]
        if self.leader_id == agent_id:
            self.leader_id = None

    @event(Scaled)
    def _scale(self, from_max: int, to_max: int) -> None:
        self.max_agents = to_max

    @event(Optimized)
    def _optimize(self, placements: list[dict[str, Any]]) -> None:
        for p in placements:
            if p["agent_id"] in self.members:
                member = self.members[p["agent_id"]]
                member["parent_id"] = p["parent_id"]
                member["depth"] = p["depth"]
                member["position"] = p["position"]

    @event(StrategyChanged)
    def _change_strategy(self, from_strategy: str, to_strategy: str) -> None:
        self.strategy = to_strategy

    @event(ShutDown)
    def _shut_down(self, reason: str) -> None:
        self.status = SwarmStatus.SHUT_DOWN.value
