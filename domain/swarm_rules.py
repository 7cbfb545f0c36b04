"""The Swarm's vocabulary and the pure rules its aggregate enforces.

Guards raise the domain error a refused command reports; placement rules pick,
per topology, where members go (see :mod:`domain.topology` for the tree itself).
Nothing here changes state: the aggregate records the outcome as events.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain import topology as topo
from domain.errors import CapacityExceeded, InvalidTransition, NotAllowed, NotFound, ValidationError
from domain.topology import Members


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


# --------------------------------------------------------------------------- guards
def require_active(status: str, action: str) -> None:
    if status == SwarmStatus.SHUT_DOWN:
        raise InvalidTransition(
            f"swarm is shut_down; it cannot {action} (only an active swarm can)",
            current=status,
            allowed=[SwarmStatus.ACTIVE.value],
        )


def require_member(members: Members, agent_id: UUID | str, swarm_name: str) -> str:
    """``agent_id`` as a member key, or NotFound."""
    key = str(agent_id)
    if key not in members:
        raise NotFound(f"agent {key} is not a member of swarm {swarm_name!r}", agent_id=key)
    return key


def check_can_join(members: Members, key: str, max_agents: int) -> None:
    """A non-empty id, not yet a member, and room in the swarm."""
    if not key:
        raise ValidationError("agent_id must not be empty", field="agent_id")
    if key in members:
        raise NotAllowed(f"agent {key} is already a member", agent_id=key)
    if len(members) >= max_agents:
        raise CapacityExceeded(
            f"swarm is full: {len(members)} of {max_agents} members",
            members=len(members),
            max_agents=max_agents,
        )


def check_can_scale(members: Members, max_agents: int) -> None:
    """The new limit must still hold every member."""
    if max_agents < len(members):
        raise CapacityExceeded(
            f"cannot scale to {max_agents}: the swarm has {len(members)} members",
            members=len(members),
            requested=max_agents,
        )


# --------------------------------------------------------------------------- placement
def placement_on_join(
    topology: str,
    members: Members,
    capabilities: list[str],
    max_depth: int,
    branching_factor: int,
) -> tuple[str | None, int]:
    """(parent_id, depth) of a newcomer: scored into the tree, else flat (None, 0)."""
    if topology == Topology.HIERARCHICAL:
        return topo.place_hierarchical(members, capabilities, max_depth, branching_factor)
    return None, 0


def replacements_on_leave(
    topology: str, members: Members, leaving_id: str, max_depth: int, branching_factor: int
) -> list[dict[str, Any]]:
    """Members that move when ``leaving_id`` leaves (only a tree re-homes children)."""
    if topology == Topology.HIERARCHICAL:
        return topo.rehome_children(members, leaving_id, max_depth, branching_factor)
    return []


def successor(topology: str, members: Members) -> str:
    """The next leader once the leader left: the tree's root, else the earliest joined."""
    if topology == Topology.HIERARCHICAL:
        return next(m for m, v in members.items() if v["parent_id"] is None)
    return topo.by_position(members)[0]


def optimized_placements(
    topology: str,
    members: Members,
    leader: str | None,
    max_depth: int,
    branching_factor: int,
) -> list[dict[str, Any]]:
    """Every member re-placed for balance: a rebuilt tree, else flat in join order."""
    if topology == Topology.HIERARCHICAL:
        return topo.rebuild_hierarchy(members, leader, max_depth, branching_factor)
    return [
        {"agent_id": m, "parent_id": None, "depth": 0, "position": i}
        for i, m in enumerate(topo.by_position(members))
    ]


def member_loads(members: Members, loads: Mapping[str, int | float]) -> dict[str, int | float]:
    """Each member's load in join order; a member missing from ``loads`` counts 0."""
    return {m: loads.get(m, 0) for m in topo.by_position(members)}
