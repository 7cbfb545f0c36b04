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
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain import topology as topo
from domain.agent import AgentType
from domain.base import SwarmlogAggregate
from domain.errors import (
    CapacityExceeded,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationError,
)
from domain.topology import Member
from domain.validation import (
    normalize_capabilities,
    parse_enum,
    validate_int,
    validate_name,
)


class Topology(StrEnum):
    HIERARCHICAL = "hierarchical"
    MESH = "mesh"
    RING = "ring"
    STAR = "star"


class Strategy(StrEnum):
    BALANCED = "balanced"
    SPECIALIZED = "specialized"
    ADAPTIVE = "adaptive"


class SwarmStatus(StrEnum):
    ACTIVE = "active"
    SHUT_DOWN = "shut_down"


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

    def _require_active(self, action: str) -> None:
        if self.status == SwarmStatus.SHUT_DOWN:
            raise InvalidTransition(
                f"swarm is shut_down; it cannot {action} (only an active swarm can)",
                current=self.status,
                allowed=[SwarmStatus.ACTIVE.value],
            )

    def _require_member(self, agent_id: UUID | str) -> str:
        key = str(agent_id)
        if key not in self.members:
            raise NotFound(f"agent {key} is not a member of swarm {self.name!r}", agent_id=key)
        return key

    def join(
        self,
        agent_id: UUID | str,
        agent_type: AgentType | str,
        capabilities: Iterable[str],
    ) -> None:
        self._require_active("accept members")
        key = str(agent_id)
        if not key:
            raise ValidationError("agent_id must not be empty", field="agent_id")
        if key in self.members:
            raise NotAllowed(f"agent {key} is already a member", agent_id=key)
        if len(self.members) >= self.max_agents:
            raise CapacityExceeded(
                f"swarm is full: {len(self.members)} of {self.max_agents} members",
                members=len(self.members),
                max_agents=self.max_agents,
            )
        kind = parse_enum(AgentType, agent_type, "agent_type").value
        caps = normalize_capabilities(capabilities)
        parent, depth = None, 0
        if self.is_hierarchical:
            parent, depth = topo.place_hierarchical(
                self.members, caps, self.max_depth, self.branching_factor
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
        key = self._require_member(agent_id)
        replacements: list[dict[str, Any]] = []
        if self.is_hierarchical:
            replacements = topo.rehome_children(
                self.members, key, self.max_depth, self.branching_factor
            )
        was_leader = self.leader_id == key
        self._leave(agent_id=key, reason=reason, replacements=replacements)
        if was_leader and self.members:
            if self.is_hierarchical:
                leader = next(m for m, v in self.members.items() if v["parent_id"] is None)
            else:
                leader = topo.by_position(self.members)[0]
            self._elect(agent_id=leader)

    def scale(self, max_agents: int) -> None:
        self._require_active("scale")
        validate_int(max_agents, "max_agents", 1, 1000)
        if max_agents < len(self.members):
            raise CapacityExceeded(
                f"cannot scale to {max_agents}: the swarm has {len(self.members)} members",
                members=len(self.members),
                requested=max_agents,
            )
        if max_agents != self.max_agents:
            self._scale(from_max=self.max_agents, to_max=max_agents)

    def optimize(self) -> None:
        """Re-place every member for balance (hierarchical: rebuild the tree)."""
        self._require_active("be optimized")
        if self.is_hierarchical:
            placements = topo.rebuild_hierarchy(
                self.members, self.leader_id, self.max_depth, self.branching_factor
            )
        else:
            placements = [
                {"agent_id": m, "parent_id": None, "depth": 0, "position": i}
                for i, m in enumerate(topo.by_position(self.members))
            ]
        self._optimize(placements=placements)

    def change_strategy(self, strategy: str) -> None:
        self._require_active("change strategy")
        new = parse_enum(Strategy, strategy, "strategy")
        if new != self.strategy:
            self._change_strategy(from_strategy=self.strategy, to_strategy=new.value)

    def shut_down(self, reason: str = "") -> None:
        self._require_active("shut down again")
        self._shut_down(reason=reason)

    def children_of(self, agent_id: UUID | str) -> list[str]:
        return topo.children_map(self.members)[self._require_member(agent_id)]

    def optimal_path(self, a: UUID | str, b: UUID | str) -> list[str]:
        return topo.optimal_path(self.topology, self.members, str(a), str(b), self.leader_id)

    def links(self) -> list[tuple[str, str]]:
        return topo.links(self.topology, self.members, self.leader_id)

    def load_distribution(self, loads: Mapping[str, int | float]) -> dict[str, Any]:
        """Only members count; a member missing from ``loads`` counts 0."""
        per_member = {m: loads.get(m, 0) for m in topo.by_position(self.members)}
        return topo.load_distribution(per_member)

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
