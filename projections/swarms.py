"""The swarms read model: each swarm's settings, status and leader, and its members
with their place in the topology (parent, depth, join position)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Column, Integer, String

from domain.swarm import Swarm
from projections.changes import Changes
from projections.columns import id_column, json_column, sid, time_column
from projections.projection import Projection, handles


def _swarm_columns() -> list[Column[Any]]:
    return [
        id_column("swarm_id", primary_key=True),
        Column("name", String(200), nullable=False),
        Column("topology", String(20), nullable=False),
        Column("strategy", String(20), nullable=False),
        Column("max_agents", Integer, nullable=False),
        Column("max_depth", Integer, nullable=False),
        Column("branching_factor", Integer, nullable=False),
        Column("status", String(20), nullable=False, index=True),
        id_column("leader_id"),
        Column("member_count", Integer, nullable=False),
        time_column("created_at"),
        time_column("updated_at"),
        Column("version", Integer, nullable=False),
    ]


def _member_columns() -> list[Column[Any]]:
    return [
        id_column("swarm_id", primary_key=True),
        id_column("agent_id", primary_key=True),
        Column("agent_type", String(40), nullable=False),
        json_column("capabilities"),
        id_column("parent_id"),
        Column("depth", Integer, nullable=False),
        Column("position", Integer, nullable=False),
        time_column("joined_at"),
    ]


def _moved_agents(event: Any) -> list[str]:
    """The members an event places anew (besides the one that joins or leaves)."""
    if isinstance(event, Swarm.MemberLeft):
        return [r["agent_id"] for r in event.replacements]
    if isinstance(event, Swarm.Optimized):
        return [p["agent_id"] for p in event.placements]
    return []


class SwarmsProjection(Projection):
    name: ClassVar[str] = "swarms"
    version: ClassVar[int] = 1
    columns = {"swarms": _swarm_columns, "swarm_members": _member_columns}

    def prefetch(self, changes: Changes, events: list[Any]) -> None:
        changes.prefetch("swarms", sorted({sid(e.originator_id) for e in events}))
        keys = {
            (sid(e.originator_id), e.agent_id)
            for e in events
            if isinstance(e, Swarm.MemberJoined | Swarm.MemberLeft)
        }
        keys |= {(sid(e.originator_id), agent) for e in events for agent in _moved_agents(e)}
        if keys:
            changes.prefetch("swarm_members", sorted(keys))

    def _touch(self, changes: Changes, event: Any, **values: Any) -> dict[str, Any] | None:
        return changes.update(
            "swarms",
            sid(event.originator_id),
            version=event.originator_version,
            updated_at=event.timestamp,
            **values,
        )

    @handles(Swarm.Initialized)
    def initialized(self, changes: Changes, event: Swarm.Initialized) -> None:
        changes.put(
            "swarms",
            {
                "swarm_id": sid(event.originator_id),
                "name": event.name,
                "topology": event.topology,
                "strategy": event.strategy,
                "max_agents": event.max_agents,
                "max_depth": event.max_depth,
                "branching_factor": event.branching_factor,
                "status": "active",
                "leader_id": None,
                "member_count": 0,
                "created_at": event.timestamp,
                "updated_at": event.timestamp,
                "version": event.originator_version,
            },
        )

    @handles(Swarm.MemberJoined)
    def member_joined(self, changes: Changes, event: Swarm.MemberJoined) -> None:
        swarm_id = sid(event.originator_id)
        if changes.get("swarm_members", (swarm_id, event.agent_id)) is None:
            row = self._touch(changes, event)
            if row is not None:
                row["member_count"] += 1
        else:
            self._touch(changes, event)
        changes.put(
            "swarm_members",
            {
                "swarm_id": swarm_id,
                "agent_id": event.agent_id,
                "agent_type": event.agent_type,
                "capabilities": list(event.capabilities),
                "parent_id": event.parent_id,
                "depth": event.depth,
                "position": event.position,
                "joined_at": event.timestamp,
            },
        )

    @handles(Swarm.MemberLeft)
    def member_left(self, changes: Changes, event: Swarm.MemberLeft) -> None:
        swarm_id = sid(event.originator_id)
        row = self._touch(changes, event)
        if changes.get("swarm_members", (swarm_id, event.agent_id)) is not None:
            changes.remove("swarm_members", (swarm_id, event.agent_id))
            if row is not None:
                row["member_count"] -= 1
        for r in event.replacements:
            changes.update(
                "swarm_members",
                (swarm_id, r["agent_id"]),
                parent_id=r["parent_id"],
                depth=r["depth"],
            )
        if row is not None and row["leader_id"] == event.agent_id:
            row["leader_id"] = None

    @handles(Swarm.LeaderElected)
    def leader_elected(self, changes: Changes, event: Swarm.LeaderElected) -> None:
        self._touch(changes, event, leader_id=event.agent_id)

    @handles(Swarm.Scaled)
    def scaled(self, changes: Changes, event: Swarm.Scaled) -> None:
        self._touch(changes, event, max_agents=event.to_max)

    @handles(Swarm.Optimized)
    def optimized(self, changes: Changes, event: Swarm.Optimized) -> None:
        swarm_id = sid(event.originator_id)
        self._touch(changes, event)
        for p in event.placements:
            changes.update(
                "swarm_members",
                (swarm_id, p["agent_id"]),
                parent_id=p["parent_id"],
                depth=p["depth"],
                position=p["position"],
            )

    @handles(Swarm.StrategyChanged)
    def strategy_changed(self, changes: Changes, event: Swarm.StrategyChanged) -> None:
        self._touch(changes, event, strategy=event.to_strategy)

    @handles(Swarm.ShutDown)
    def shut_down(self, changes: Changes, event: Swarm.ShutDown) -> None:
        self._touch(changes, event, status="shut_down")
