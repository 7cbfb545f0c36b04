"""The agents read model: state, type, capabilities, swarm, current tasks, load, record."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Column, Float, Integer, String

from domain.agent import Agent
from domain.swarm import Swarm
from projections.changes import Changes
from projections.columns import id_column, json_column, sid, time_column
from projections.projection import Projection, handles


def _agent_columns() -> list[Column[Any]]:
    return [
        id_column("agent_id", primary_key=True),
        Column("name", String(200), nullable=False),
        Column("agent_type", String(40), nullable=False, index=True),
        json_column("capabilities"),
        Column("state", String(20), nullable=False, index=True),
        id_column("swarm_id"),
        json_column("current_tasks"),
        Column("load", Integer, nullable=False),
        Column("max_load", Integer, nullable=False),
        Column("completed_count", Integer, nullable=False),
        Column("failed_count", Integer, nullable=False),
        Column("success_rate", Float, nullable=False),
        Column("version", Integer, nullable=False),
        time_column("created_at"),
        time_column("updated_at"),
    ]


class AgentsProjection(Projection):
    name: ClassVar[str] = "agents"
    version: ClassVar[int] = 1
    table: ClassVar[str] = "agents"
    columns = {"agents": _agent_columns}

    def prefetch(self, changes: Changes, events: list[Any]) -> None:
        ids = {
            sid(e.agent_id) for e in events if isinstance(e, Swarm.MemberJoined | Swarm.MemberLeft)
        }
        ids |= {sid(e.originator_id) for e in events if not isinstance(e, Swarm.Event)}
        changes.prefetch(self.table, sorted(i for i in ids if i))

    def _touch(self, changes: Changes, event: Any, **values: Any) -> dict[str, Any] | None:
        return changes.update(
            self.table,
            sid(event.originator_id),
            version=event.originator_version,
            updated_at=event.timestamp,
            **values,
        )

    @handles(Agent.Spawned)
    def spawned(self, changes: Changes, event: Agent.Spawned) -> None:
        changes.put(
            self.table,
            {
                "agent_id": sid(event.originator_id),
                "name": event.name,
                "agent_type": event.agent_type,
                "capabilities": list(event.capabilities),
                "state": "created",
                "swarm_id": None,
                "current_tasks": [],
                "load": 0,
                "max_load": event.max_load,
                "completed_count": 0,
                "failed_count": 0,
                "success_rate": 0.0,
                "version": event.originator_version,
                "created_at": event.timestamp,
                "updated_at": event.timestamp,
            },
        )

    @handles(Agent.Transitioned)
    def transitioned(self, changes: Changes, event: Agent.Transitioned) -> None:
        self._touch(changes, event, state=event.to_state)

    @handles(Agent.TaskTaken)
    def task_taken(self, changes: Changes, event: Agent.TaskTaken) -> None:
        row = self._touch(changes, event, state="working")
        if row is not None:
            row["current_tasks"] = [*row["current_tasks"], sid(event.task_id)]
            row["load"] = len(row["current_tasks"])

    @handles(Agent.TaskReleased)
    def task_released(self, changes: Changes, event: Agent.TaskReleased) -> None:
        row = self._touch(changes, event)
        if row is None:
            return
        row["current_tasks"] = [t for t in row["current_tasks"] if t != sid(event.task_id)]
        row["load"] = len(row["current_tasks"])
        if event.outcome == "completed":
            row["completed_count"] += 1
        elif event.outcome in ("failed", "timed_out"):
            row["failed_count"] += 1
        finished = row["completed_count"] + row["failed_count"]
        row["success_rate"] = row["completed_count"] / finished if finished else 0.0
        if not row["current_tasks"] and row["state"] == "working":
            row["state"] = "ready"

    @handles(Agent.Terminated)
    def terminated(self, changes: Changes, event: Agent.Terminated) -> None:
        self._touch(changes, event, state="terminated", current_tasks=[], load=0)

    @handles(Agent.VoteScored)
    def vote_scored(self, changes: Changes, event: Agent.VoteScored) -> None:
        self._touch(changes, event)

    @handles(Swarm.MemberJoined)
    def joined(self, changes: Changes, event: Swarm.MemberJoined) -> None:
        changes.update(self.table, sid(event.agent_id), swarm_id=sid(event.originator_id))

    @handles(Swarm.MemberLeft)
    def left(self, changes: Changes, event: Swarm.MemberLeft) -> None:
        row = changes.get(self.table, sid(event.agent_id))
        if row is not None and row["swarm_id"] == sid(event.originator_id):
            changes.update(self.table, sid(event.agent_id), swarm_id=None)
