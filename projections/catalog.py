"""The projections' own bookkeeping: status and checkpoint, and parked (dead-letter) events.
Positions are 64-bit (see positions.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

status = Table(
    "projection_status",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("checkpoint", BigInteger, nullable=False, default=0),
    Column("state", String(20), nullable=False, default="running"),
    Column("building_generation", Integer),
    Column("building_version", Integer),
    Column("building_checkpoint", BigInteger),
    Column("last_error", Text),
    Column("owner", String(200)),
    Column("updated_at", DateTime(timezone=True)),
)

dead_letters = Table(
    "projection_dead_letters",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_type", String(200), nullable=False),
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", String(20), nullable=False, default="parked"),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)
