"""What the API process runs: the write side, the read side and its projection worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import structlog
from sqlalchemy import text

from adapters.auth import TokenService
from adapters.settings import Settings
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
    _stop: threading.Event = field(default_factory=threading.Event)
    _worker: threading.Thread | None = None

    def start_worker(self) -> None:
        """Run every projection in a background thread of this process."""
        worker = Worker(self.runner, self.settings, poll_seconds=0.05)
        self._worker = threading.Thread(target=worker.run, args=(self._stop,), daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
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


def start(settings: Settings | None = None, *, worker: bool = True) -> Runtime:
    settings = settings or Settings()
    swarmlog = bootstrap(settings)
    runtime = Runtime(settings, swarmlog, read_side(swarmlog), TokenService(settings))
    if worker:
        runtime.start_worker()
    return runtime
