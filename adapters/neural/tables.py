"""The example consumer's tables in the read-model database.

``neural_checkpoints`` holds each consumer's log position; ``neural_state`` the
tracker's rows (swarms, agents, open tasks, attempts in flight) as JSON; and
``neural_examples`` one row per finished attempt, keyed by the log position of the
event that ended it (which makes a replayed insert a no-op, never a duplicate).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Integer, MetaData, String, Table

metadata = MetaData()

checkpoints = Table(
    "neural_checkpoints",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

state = Table(
    "neural_state",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("row", JSON, nullable=False),
)

examples = Table(
    "neural_examples",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("task_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("facts", JSON, nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("outcome", Integer, nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("duration_bucket", Integer, nullable=True),
    Column("coordination", Integer, nullable=True),
)
