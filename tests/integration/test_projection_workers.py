"""Two worker processes on one read-model database: each projection is run by exactly
one of them, and when the active one is killed the other takes over."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from adapters.settings import Settings
from application.bootstrap import bootstrap, read_side
from application.commands import SpawnAgent
from application.simulation.config import load_config
from application.simulation.runner import simulate
from projections.registry import all_projections
from tests.support.read_models import checksums


def start_worker(log: Path, read_model_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SWARMLOG_EVENT_STORE": "sqlite",
        "SWARMLOG_SQLITE_PATH": str(log),
        "READ_MODEL_URL": read_model_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", "--poll", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def eventually(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_one_worker_runs_each_projection_and_the_other_takes_over_when_it_dies(
    tmp_path: Path, read_model_url: str
) -> None:
    log = tmp_path / "events.db"
    settings = Settings(event_store="sqlite", sqlite_path=log, read_model_url=read_model_url)
    app = bootstrap(settings)
    simulate(app, load_config(None), agents=6, tasks=40, seed=4)
    runner = read_side(app)
    names = {p.name for p in all_projections()}

    def owners() -> dict[str, str | None]:
        return {row["name"]: row["owner"] for row in runner.status()}

    def caught_up() -> bool:
        return all(row["lag"] == 0 for row in runner.status())

    def spawn(name: str) -> None:
        app.handle(SpawnAgent(name=name, agent_type="tester", capabilities=["testing"]))

    first = start_worker(log, read_model_url)
    second: subprocess.Popen[bytes] | None = None
    try:
        first_id = f"{socket.gethostname()}:{first.pid}"
        assert eventually(lambda: set(owners().values()) == {first_id} and caught_up())

        second = start_worker(log, read_model_url)
        second_id = f"{socket.gethostname()}:{second.pid}"
        spawn("while-both-run")
        assert eventually(caught_up)
        time.sleep(1.0)  # the second worker has tried for the leases many times by now
        assert set(owners().values()) == {first_id}
        assert set(owners()) == names

        first.send_signal(signal.SIGKILL)
        first.wait()
        spawn("after-the-first-died")
        assert eventually(lambda: set(owners().values()) == {second_id} and caught_up())

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, "SIGTERM stops the worker cleanly"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    survived = checksums(runner.engine)
    for projection in runner.projections:
        runner.rebuild(projection)
    assert checksums(runner.engine) == survived
    runner.engine.dispose()
    app.close()
