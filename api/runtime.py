"""What the API process runs: the write side, the read side and its projection worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import text

from adapters.auth import TokenService
from adapters.settings import Settings
from api.feed import Feed
from api.metrics import Metrics
from application.bootstrap import Swarmlog, bootstrap, read_side
from projections.runner import ProjectionRunner
from projections.worker import Worker

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    """The wired process: built by :func:`start`, ended by :meth:`stop`."""

    settings: Settings
    swarmlog: Swarmlog
    runner: ProjectionRunner
    tokens: TokenService
    metrics: Metrics = field(default_factory=Metrics)
    feed: Feed = field(default_factory=Feed)
    _stop: threading.Event = field(default_factory=threading.Event)
    _worker: threading.Thread | None = None
    _neural: threading.Thread | None = None
    _rebuilds: dict[str, threading.Thread] = field(default_factory=dict)
    _rebuilds_lock: threading.Lock = field(default_factory=threading.Lock)

    def rebuild(self, name: str) -> bool:
        """Start rebuilding projection ``name`` beside its live tables, in a thread of
        this process (readers keep the live tables until the swap). False when a
        rebuild of it is already running here."""
        projection = self.runner.by_name[name]
        with self._rebuilds_lock:
            running = self._rebuilds.get(name)
            if running is not None and running.is_alive():
                return False
            thread = threading.Thread(
                target=self._rebuild, args=(projection,), name=f"rebuild-{name}", daemon=True
            )
            self._rebuilds[name] = thread
            thread.start()
        return True

    def _rebuild(self, projection: Any) -> None:
        log.info("rebuild.started", projection=projection.name)
        try:
            done = self.runner.rebuild(projection, cancel=self._stop)
        except Exception:
            log.exception("rebuild.failed", projection=projection.name)
            return
        log.info("rebuild.finished" if done else "rebuild.cancelled", projection=projection.name)

    def start_worker(self) -> None:
        """Run every projection in a background thread of this process."""
        worker = Worker(self.runner, self.settings, poll_seconds=0.05)
        self._worker = threading.Thread(target=worker.run, args=(self._stop,), daemon=True)
        self._worker.start()

    def start_neural(self) -> None:
        """Follow the log with the neural engine in a background thread of this process:
        it trains as examples arrive and records each version (``NeuralService.follow``)."""

        def follow() -> None:
            try:
                self.swarmlog.neural().follow(self._stop)
            except Exception:
                log.exception("neural.follow_stopped")

        self._neural = threading.Thread(target=follow, name="neural", daemon=True)
        self._neural.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        if self._neural is not None:
            self._neural.join(timeout=60)
        for thread in list(self._rebuilds.values()):
            thread.join(timeout=30)
        self.runner.engine.dispose()
        self.swarmlog.close()

    def ready(self) -> dict[str, bool]:
        """Whether the event store and the read models answer."""
        checks = {}
        try:
            self.swarmlog.store.head()
            checks["event_store"] = True
        except Exception:
            checks["event_store"] = False
        try:
            with self.runner.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["read_models"] = True
        except Exception:
            checks["read_models"] = False
        return checks


def start(
    settings: Settings | None = None, *, worker: bool | None = None, neural: bool | None = None
) -> Runtime:
    """The wired process; its projection worker runs when ``worker`` (by default when
    ``settings.serve_worker``), the neural engine follows the log when ``neural`` (by
    default when ``settings.neural_enabled``)."""
    settings = settings or Settings()
    swarmlog = bootstrap(settings)
    runtime = Runtime(settings, swarmlog, read_side(swarmlog), TokenService(settings))
    swarmlog.bus.after_commit.append(lambda _result: runtime.feed.notify())
    if settings.serve_worker if worker is None else worker:
        runtime.start_worker()
    if settings.neural_enabled if neural is None else neural:
        runtime.start_neural()
    return runtime
