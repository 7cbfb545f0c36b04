"""The baseline: the agents read model as the eventsourcing library's own
ProjectionRunner builds it (one transaction per event, with its tracking row)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import get_topic

from domain.agent import Agent

HANDLED = (Agent.Spawned, Agent.Transitioned, Agent.TaskTaken, Agent.TaskReleased, Agent.Terminated)
CREATE = (
    "CREATE TABLE IF NOT EXISTS lib_agents (agent_id TEXT PRIMARY KEY, state TEXT, "
    "load INTEGER, completed INTEGER, failed INTEGER)"
)


def _statements(event: Any) -> list[tuple[str, tuple[Any, ...]]]:
    agent = str(event.originator_id)
    if isinstance(event, Agent.Spawned):
        return [("INSERT INTO lib_agents VALUES (?, 'created', 0, 0, 0)", (agent,))]
    if isinstance(event, Agent.Transitioned):
        return [("UPDATE lib_agents SET state = ? WHERE agent_id = ?", (event.to_state, agent))]
    if isinstance(event, Agent.TaskTaken):
        sql = "UPDATE lib_agents SET state = 'working', load = load + 1 WHERE agent_id = ?"
        return [(sql, (agent,))]
    if isinstance(event, Agent.TaskReleased):
        done = int(event.outcome == "completed")
        failed = int(event.outcome in ("failed", "timed_out"))
        sql = (
            "UPDATE lib_agents SET load = load - 1, completed = completed + ?, "
            "failed = failed + ?, state = CASE WHEN load = 1 AND state = 'working' "
            "THEN 'ready' ELSE state END WHERE agent_id = ?"
        )
        return [(sql, (done, failed, agent))]
    sql = "UPDATE lib_agents SET state = 'terminated', load = 0 WHERE agent_id = ?"
    return [(sql, (agent,))]


class SQLiteAgentsView(SQLiteTrackingRecorder):
    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(CREATE)

    def project(self, event: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for sql, params in _statements(event):
                curs.execute(sql, params)
            self._insert_tracking(curs, tracking)


class PostgresAgentsView(PostgresTrackingRecorder):
    """In the datastore's schema (the connection's search path is the default)."""

    def _sql(self, sql: str) -> str:
        qualified = (
            f'"{self.datastore.schema}".lib_agents' if self.datastore.schema else "lib_agents"
        )
        return sql.replace("lib_agents", qualified).replace("?", "%s")

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._sql(CREATE))  # type: ignore[arg-type]

    def project(self, event: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for sql, params in _statements(event):
                curs.execute(self._sql(sql), params)  # type: ignore[arg-type]
            self._insert_tracking(curs, tracking)


class LibraryAgentsProjection(Projection[Any]):
    name = "libagents"
    topics = tuple(get_topic(kind) for kind in HANDLED)

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.project(domain_event, tracking)
