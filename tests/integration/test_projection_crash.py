"""Crash safety with real processes: the worker is SIGKILLed again and again while it
catches up on a log of more than 50k events; what it leaves equals a clean rebuild."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap
from application.simulation.config import load_config
from application.simulation.runner import simulate
from projections import catalog
from projections.database import read_model_engine
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.support.read_models import checksums

KILLS = 10
MIN_EVENTS = 50_000


@pytest.fixture(scope="session")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An event store with more than 50k events from the simulator (made once per run)."""
    path = tmp_path_factory.mktemp("big-log") / "events.db"
    app = bootstrap(Settings(event_store="sqlite", sqlite_path=path))
    simulate(app, load_config(None), agents=40, tasks=3500, seed=5)
    assert app.store.head() >= MIN_EVENTS
    app.close()
    return path


def worker_process(log: Path, read_model_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SWARMLOG_EVENT_STORE": "sqlite",
        "SWARMLOG_SQLITE_PATH": str(log),
        "READ_MODEL_URL": read_model_url,
        "SWARMLOG_PROJECTION_BATCH_SIZE": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", "--poll", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def progress(engine: Engine) -> int:
    """The sum of all projections' checkpoints (0 before the first worker set up)."""
    with engine.connect() as conn:
        exists = engine.dialect.has_table(conn, "projection_status")
        if not exists:
            return 0
        return int(
            conn.execute(
                select(func.coalesce(func.sum(catalog.status.c.checkpoint), 0))
            ).scalar_one()
        )


def wait_for(condition: Any, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_worker_killed_at_random_moments_leaves_what_a_clean_rebuild_makes(
    big_log: Path, read_model_url: str
) -> None:
    engine = read_model_engine(read_model_url)
    app: Swarmlog = bootstrap(
        Settings(event_store="sqlite", sqlite_path=big_log), inline_policies=False
    )
    head = app.store.head()
    total = head * len(all_projections())
    rng = random.Random(2026)
    kills_mid_work = 0
    for _ in range(KILLS):
        before = progress(engine)
        worker = worker_process(big_log, read_model_url)
        try:
            assert wait_for(lambda b=before: progress(engine) > b), "the worker made no progress"
            time.sleep(rng.uniform(0.0, 0.2))
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        if progress(engine) < total:
            kills_mid_work += 1
    assert kills_mid_work == KILLS, "the catch-up finished before every kill landed"

    runner = ProjectionRunner(app.store, engine, all_projections(), batch_size=1000)
    runner.setup()
    runner.catch_up()
    assert all(row["lag"] == 0 for row in runner.status())
    survived = checksums(engine)

    with engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT COUNT(*), COUNT(DISTINCT stream_id || ':' || CAST(version AS TEXT)) "
                "FROM audit_log"
            )
        ).one()
        gaps = conn.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT stream_id, MAX(version) AS top, COUNT(*) AS n "
                "FROM audit_log GROUP BY stream_id) s WHERE s.top != s.n"
            )
        ).scalar_one()
    assert audited == (head, head), "every event audited exactly once"
    assert gaps == 0, "no stream misses a version"

    for projection in runner.projections:
        runner.rebuild(projection)
    assert checksums(engine) == survived
    app.close()
    engine.dispose()
