"""Log positions are kept as 64-bit integers wherever they are stored.

A position on SQLite and PostgreSQL counts events, but on EventStoreDB it is a commit
position, a byte offset into the server's transaction log, which passes 2^31 once the
log passes 2 GiB. Every column that holds a position is therefore ``BigInteger``.
Tables an earlier release created on PostgreSQL with INTEGER columns are widened in
place when the tables are set up; SQLite stores every integer in up to 64 bits
whatever the declared type, so there is nothing to widen there.
"""

from __future__ import annotations

import structlog
from sqlalchemy import BigInteger, Connection, MetaData, text

log = structlog.get_logger(__name__)


def widen_positions(conn: Connection, metadata: MetaData) -> None:
    """ALTER every BigInteger column of ``metadata``'s tables that PostgreSQL holds as
    INTEGER to BIGINT (logged); idempotent."""
    if conn.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, BigInteger):
                continue
            found = conn.execute(
                text(
                    "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND table_name = :table AND column_name = :column"
                ),
                {"table": table.name, "column": column.name},
            ).scalar()
            if found == "integer":
                conn.execute(
                    text(f'ALTER TABLE "{table.name}" ALTER COLUMN "{column.name}" TYPE BIGINT')
                )
                log.info("positions.widened", table=table.name, column=column.name)
