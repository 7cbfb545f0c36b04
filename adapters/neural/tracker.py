"""The state the example consumer keeps across events, and the events that change it.

:class:`LogTracker` reads decoded domain events in log order and returns an
:class:`~adapters.neural.features.Example` when an attempt ends. To build one it
remembers swarms (topology, members), agents (type, capabilities, load, latest
outcomes), tasks not yet final, and the attempts in flight (the agent's facts and
the candidates as they were at assignment). It does no I/O: its state is plain
JSON-ready rows in a few named tables, and it tells which rows changed since the
last :meth:`LogTracker.changes`, so a consumer can persist them with its checkpoint.

Load is counted from task events (+1 on ``Task.Assigned``, -1 when the attempt ends
or the task is requeued), so it does not depend on when the workload policy runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic

from adapters.neural.features import RECENT_WINDOW, Example
from adapters.neural.rows import Row, agent_facts_row, example_of
from domain.agent import ACCEPTS_WORK, Agent
from domain.swarm import Swarm
from domain.task import Task

KINDS = ("swarm", "agent", "task", "attempt")
HANDLED: tuple[type, ...] = (
    Swarm.Initialized, Swarm.MemberJoined, Swarm.MemberLeft,
    Agent.Spawned, Agent.Transitioned, Agent.Terminated,
    Task.Created, Task.Assigned, Task.Started, Task.Completed, Task.Failed,
    Task.TimedOut, Task.Cancelled, Task.Requeued,
)  # fmt: skip
TOPICS: tuple[str, ...] = tuple(get_topic(kind) for kind in HANDLED)
WORKING_STATES = frozenset(s.value for s in ACCEPTS_WORK)


@dataclass
class _Rows:
    """One table of state: rows by key, with the keys written or deleted since last asked."""

    rows: dict[str, Row] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    def put(self, key: str, row: Row) -> None:
        self.rows[key] = row
        self.written.add(key)
        self.deleted.discard(key)

    def touch(self, key: str) -> None:
        self.written.add(key)

    def drop(self, key: str) -> None:
        if self.rows.pop(key, None) is not None:
            self.deleted.add(key)
            self.written.discard(key)


@dataclass(frozen=True)
class StateChanges:
    """Rows to write (kind, key, row) and rows to delete (kind, key)."""

    written: list[tuple[str, str, Row]]
    deleted: list[tuple[str, str]]


class LogTracker:
    """Turns task lifecycle events into examples; see the module docstring."""

    def __init__(self, rows: Iterable[tuple[str, str, Row]] = ()) -> None:
        self.tables = {kind: _Rows() for kind in KINDS}
        for kind, key, row in rows:
            self.tables[kind].rows[key] = row

    # ------------------------------------------------------------------ state out
    def changes(self) -> StateChanges:
        """What changed since the last call (and forget it)."""
        written, deleted = [], []
        for kind, table in self.tables.items():
            written += [(kind, key, table.rows[key]) for key in sorted(table.written)]
            deleted += [(kind, key) for key in sorted(table.deleted)]
            table.written.clear()
            table.deleted.clear()
        return StateChanges(written, deleted)

    # ------------------------------------------------------------------ events in
    def apply(self, position: int, event: Any) -> Example | None:
        """Take one event in log order; the example it completes, if any."""
        handler = _HANDLERS.get(type(event))
        return None if handler is None else handler(self, position, event)

    def _swarm_initialized(self, _position: int, event: Any) -> None:
        row = {"topology": event.topology, "members": []}
        self.tables["swarm"].put(str(event.originator_id), row)

    def _member_joined(self, _position: int, event: Any) -> None:
        swarm = self.tables["swarm"].rows.get(str(event.originator_id))
        if swarm is not None and event.agent_id not in swarm["members"]:
            swarm["members"] = [*swarm["members"], str(event.agent_id)]
            self.tables["swarm"].touch(str(event.originator_id))

    def _member_left(self, _position: int, event: Any) -> None:
        swarm = self.tables["swarm"].rows.get(str(event.originator_id))
        if swarm is not None:
            swarm["members"] = [m for m in swarm["members"] if m != str(event.agent_id)]
            self.tables["swarm"].touch(str(event.originator_id))

    def _agent_spawned(self, _position: int, event: Any) -> None:
        row = {
            "name": event.name,
            "agent_type": event.agent_type,
            "capabilities": list(event.capabilities),
            "max_load": event.max_load,
            "state": "created",
            "load": 0,
            "recent": [],
            "attempts": 0,
        }
        self.tables["agent"].put(str(event.originator_id), row)

    def _agent_state(self, _position: int, event: Any) -> None:
        key = str(event.originator_id)
        agent = self.tables["agent"].rows.get(key)
        if agent is not None:
            agent["state"] = getattr(event, "to_state", "terminated")
            self.tables["agent"].touch(key)

    def _task_created(self, _position: int, event: Any) -> None:
        row = {
            "task_type": event.task_type,
            "priority": event.priority,
            "required_capabilities": sorted(event.required_capabilities),
            "swarm_id": None if event.swarm_id is None else str(event.swarm_id),
        }
        self.tables["task"].put(str(event.originator_id), row)

    def _task_assigned(self, position: int, event: Any) -> None:
        task_id, agent_id = str(event.originator_id), str(event.agent_id)
        task = self.tables["task"].rows.get(task_id)
        agent = self.tables["agent"].rows.get(agent_id)
        if task is None or agent is None:
            return
        swarm_id = task["swarm_id"] or self._swarm_of(agent_id)
        swarm = self.tables["swarm"].rows.get(swarm_id or "")
        members = swarm["members"] if swarm is not None else [agent_id]
        candidates = [self._candidate(m) for m in members]
        ready = sorted(
            (c for c in candidates if c is not None),
            key=lambda c: (c["name"], c["agent_id"]),
        )
        attempt = {
            "agent_id": agent_id,
            "assigned_position": position,
            "agent": agent_facts_row(agent),
            "swarm": {"topology": swarm["topology"] if swarm else "none", "size": len(members)},
            "swarm_id": swarm_id or "",
            "candidates": ready,
            "started_at": None,
        }
        self.tables["attempt"].put(task_id, attempt)
        agent["load"] += 1
        self.tables["agent"].touch(agent_id)

    def _swarm_of(self, agent_id: str) -> str | None:
        for key, swarm in sorted(self.tables["swarm"].rows.items()):
            if agent_id in swarm["members"]:
                return key
        return None

    def _candidate(self, agent_id: str) -> Row | None:
        agent = self.tables["agent"].rows.get(agent_id)
        if agent is None or agent["state"] not in WORKING_STATES:
            return None
        if agent["load"] >= agent["max_load"]:
            return None
        return {"agent_id": agent_id, "name": agent["name"], "agent": agent_facts_row(agent)}

    def _task_started(self, _position: int, event: Any) -> None:
        key = str(event.originator_id)
        attempt = self.tables["attempt"].rows.get(key)
        if attempt is not None:
            attempt["started_at"] = event.timestamp.isoformat()
            self.tables["attempt"].touch(key)

    def _task_completed(self, position: int, event: Any) -> Example | None:
        return self._finish(position, event, 1, event.duration_seconds, final=True)

    def _task_failed(self, position: int, event: Any) -> Example | None:
        return self._finish(position, event, 0, None, final=False)

    def _task_timed_out(self, position: int, event: Any) -> Example | None:
        return self._finish(position, event, None, event.elapsed_seconds, final=True)

    def _task_dropped(self, _position: int, event: Any) -> None:
        key = str(event.originator_id)
        attempt = self.tables["attempt"].rows.get(key)
        if attempt is not None:
            self._release(attempt["agent_id"], None)
            self.tables["attempt"].drop(key)
        if isinstance(event, Task.Cancelled):
            self.tables["task"].drop(key)

    def _finish(
        self, position: int, event: Any, outcome: int | None, seconds: float | None, *, final: bool
    ) -> Example | None:
        key = str(event.originator_id)
        attempt = self.tables["attempt"].rows.get(key)
        task = self.tables["task"].rows.get(key)
        if attempt is not None:
            self.tables["attempt"].drop(key)
            self._release(attempt["agent_id"], 1 if outcome == 1 else 0)
        if final:
            self.tables["task"].drop(key)
        if attempt is None or task is None:
            return None
        if seconds is None and attempt["started_at"] is not None:
            started = datetime.fromisoformat(attempt["started_at"])
            seconds = max(0.0, (event.timestamp - started).total_seconds())
        return example_of(position, key, task, attempt, outcome, seconds)

    def _release(self, agent_id: str, outcome: int | None) -> None:
        agent = self.tables["agent"].rows.get(agent_id)
        if agent is None:
            return
        agent["load"] = max(0, agent["load"] - 1)
        if outcome is not None:
            agent["recent"] = [*agent["recent"], outcome][-RECENT_WINDOW:]
            agent["attempts"] += 1
        self.tables["agent"].touch(agent_id)


_HANDLERS: dict[type, Any] = {
    Swarm.Initialized: LogTracker._swarm_initialized,
    Swarm.MemberJoined: LogTracker._member_joined,
    Swarm.MemberLeft: LogTracker._member_left,
    Agent.Spawned: LogTracker._agent_spawned,
    Agent.Transitioned: LogTracker._agent_state,
    Agent.Terminated: LogTracker._agent_state,
    Task.Created: LogTracker._task_created,
    Task.Assigned: LogTracker._task_assigned,
    Task.Started: LogTracker._task_started,
    Task.Completed: LogTracker._task_completed,
    Task.Failed: LogTracker._task_failed,
    Task.TimedOut: LogTracker._task_timed_out,
    Task.Cancelled: LogTracker._task_dropped,
    Task.Requeued: LogTracker._task_dropped,
}
