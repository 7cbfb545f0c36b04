"""Wake-ups for the live subscriptions of this process when the log grows.

Commands run in worker threads; subscriptions wait on the event loop. ``notify``
may be called from any thread and wakes every waiter on its own loop. Writes made
by other processes are seen by polling: a waiter also wakes after ``timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class Feed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # its loop has closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float) -> None:
        """Until the next ``notify`` or ``timeout`` seconds, whichever comes first."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter[1].wait(), timeout)
        finally:
            with self._lock:
                self._waiters.discard(waiter)
