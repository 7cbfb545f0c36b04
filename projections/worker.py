"""The projection worker: runs the projections it holds the lease of until stopped.

It wakes when the event store announces new events (PostgreSQL LISTEN/NOTIFY,
EventStoreDB a catch-up subscription to $all) and polls where no announcement
exists (SQLite).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog

from adapters.settings import Settings
from projections.leases import Leases
from projections.runner import ProjectionRunner

log = structlog.get_logger(__name__)

MIN_BACKOFF = 0.5
MAX_BACKOFF = 5.0


class Waiter:
    """Sleeps until new events may be there: a NOTIFY, or the poll interval."""

    def __init__(
        self,
        settings: Settings,
        channel: str | None,
        stop: threading.Event,
        recorder: Any = None,
    ) -> None:
        self.stop = stop
        self.conn: psycopg.Connection[tuple[object, ...]] | None = None
        self.waker: Any = None
        if settings.event_store == "eventstoredb" and recorder is not None:
            from adapters.eventstoredb_waker import CatchUpWaker

            self.waker = CatchUpWaker(recorder)
        if settings.event_store == "postgres" and channel:
            self.conn = psycopg.connect(
                host=settings.postgres_host,
                port=settings.postgres_port,
                user=settings.postgres_user,
                password=settings.postgres_password or None,
                dbname=settings.postgres_dbname,
                autocommit=True,
            )
            self.conn.execute(f'LISTEN "{channel}"')

    def wait(self, seconds: float) -> None:
        if self.waker is not None:
            self.waker.wait(seconds)
            return
        if self.conn is None:
            self.stop.wait(seconds)
            return
        for _ in self.conn.notifies(timeout=seconds, stop_after=1):
            pass

    def close(self) -> None:
        if self.waker is not None:
            self.waker.close()
        if self.conn is not None:
            self.conn.close()


@dataclass
class Worker:
    runner: ProjectionRunner
    settings: Settings
    poll_seconds: float = 0.2
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop``. A database out of reach does not end the worker: it
        lets go of its leases, waits (longer each time, up to ``MAX_BACKOFF``) and
        starts again; the other workers may have taken its projections meanwhile."""
        backoff = MIN_BACKOFF
        while not stop.is_set():
            try:
                self._run(stop)
            except Exception as error:
                log.warning("worker.failed", error=repr(error), retry_in=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            else:
                return

    def _run(self, stop: threading.Event) -> None:
        """Catch up the projections this worker holds, then wait for more; until ``stop``."""
        leases = Leases(self.runner.engine)
        waiter: Waiter | None = None
        try:
            channel = getattr(self.runner.store.recorder, "channel_name", None)
            waiter = Waiter(self.settings, channel, stop, self.runner.store.recorder)
            while not stop.is_set():
                mine = []
                for projection in self.runner.projections:
                    fresh = projection.name not in leases.held
                    if leases.try_acquire(projection.name):
                        mine.append(projection)
                        if fresh:
                            self.runner.claim(projection.name, self.owner)
                        if fresh and self.runner.outdated(projection):
                            log.info("worker.rebuilding_outdated", projection=projection.name)
                            self.runner.rebuild(projection, cancel=stop)
                applied = self.runner.catch_up(only=mine, stop=stop)
                if applied == 0:
                    waiter.wait(self.poll_seconds)
        finally:
            log.info("worker.stopping", held=sorted(leases.held))
            with contextlib.suppress(Exception):  # the connection may be gone already
                if waiter is not None:
                    waiter.close()
            with contextlib.suppress(Exception):
                leases.release_all()
