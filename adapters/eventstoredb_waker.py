"""Wakes a waiting worker when an event is recorded in EventStoreDB / KurrentDB."""

from __future__ import annotations

import threading

import structlog

from adapters.eventstoredb_recorder import SwarmlogEventStoreDBRecorder

log = structlog.get_logger(__name__)


class CatchUpWaker:
    """Wakes a waiting worker on each event its catch-up subscription to ``$all``
    receives (the EventStoreDB counterpart of PostgreSQL's LISTEN/NOTIFY)."""

    def __init__(self, recorder: SwarmlogEventStoreDBRecorder) -> None:
        self._woken = threading.Event()
        self._subscription = recorder.subscribe(gt=recorder.max_notification_id())
        self._thread = threading.Thread(target=self._listen, name="esdb-waker", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        try:
            for _ in self._subscription:
                self._woken.set()
        except Exception as error:  # the worker falls back to polling
            log.warning("eventstoredb.subscription_ended", error=repr(error))

    def wait(self, seconds: float) -> None:
        """Until an event is recorded (or was, since the last wait), or ``seconds``."""
        if self._woken.wait(seconds):
            self._woken.clear()

    def close(self) -> None:
        self._subscription.stop()
        self._thread.join(timeout=5)
