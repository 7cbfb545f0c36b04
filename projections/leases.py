"""Who runs which projection: one runner per projection across processes.

On PostgreSQL read models a projection's lease is a session advisory lock held on a
connection of the worker's own; on SQLite it is an exclusive lock on a file beside
the database. Either way the lease dies with the process, so another worker takes
the projection over on its next round.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url


def lock_key(name: str, scope: str = "") -> int:
    """A stable signed 64-bit key for a projection's advisory lock (per schema)."""
    digest = hashlib.blake2b(f"swarmlog:{scope}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leases:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.held: set[str] = set()
        self._postgres = engine.dialect.name == "postgresql"
        self._conn: Any = None
        self._scope = ""
        if self._postgres:
            conn = self._conn = engine.connect()
            self._scope = str(conn.execute(text("SELECT current_schema()")).scalar())
            conn.commit()
        self._files: dict[str, IO[bytes]] = {}
        database = make_url(str(engine.url)).database
        self._folder = Path(database).parent if database and not self._postgres else Path(".")

    def try_acquire(self, name: str) -> bool:
        """Take the lease if nobody holds it; True when this worker holds it."""
        if name in self.held:
            return True
        if self._postgres:
            got = bool(
                self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name, self._scope)}
                ).scalar()
            )
            self._conn.commit()
        else:
            handle = (self._folder / f".{name}.lease").open("wb")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
                self._files[name] = handle
            except BlockingIOError:
                handle.close()
                got = False
        if got:
            self.held.add(name)
        return got

    def release_all(self) -> None:
        """Let go of every lease (closing the lock's connection lets go too, so a dead
        connection is simply closed)."""
        try:
            if self._postgres:
                with contextlib.suppress(Exception):
                    self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                self._conn.close()
        finally:
            for handle in self._files.values():
                handle.close()
            self._files.clear()
            self.held.clear()
