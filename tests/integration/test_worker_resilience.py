"""A worker outlives a database that goes away for a while."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from application.bootstrap import bootstrap, read_side
from projections import worker as worker_module
from projections.worker import Worker
from tests.integration.helpers import spawn


def test_a_worker_that_loses_its_database_waits_and_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "MIN_BACKOFF", 0.01)
    settings = Settings(
        event_store="sqlite",
        sqlite_path=tmp_path / "events.db",
        read_model_url=f"sqlite:///{tmp_path / 'read_models.db'}",
    )
    app = bootstrap(settings)
    runner = read_side(app)
    real_catch_up = runner.catch_up
    failures = []

    def flaky(*args: Any, **kwargs: Any) -> int:
        if len(failures) < 3:
            failures.append(time.monotonic())
            raise ConnectionError("the read-model database went away")
        return real_catch_up(*args, **kwargs)

    monkeypatch.setattr(runner, "catch_up", flaky)
    stop = threading.Event()
    thread = threading.Thread(target=Worker(runner, settings, poll_seconds=0.01).run, args=(stop,))
    thread.start()
    try:
        spawn(app, "ada")
        position = app.store.head()
        deadline = time.monotonic() + 60
        while runner.checkpoint("agents") < position:
            assert time.monotonic() < deadline, "the worker never came back"
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert len(failures) == 3
    assert not thread.is_alive()
    assert runner.checkpoint("agents") >= position
    runner.engine.dispose()
    app.close()
