"""The per-swarm metrics agree with counts taken from the event log, and the queue depth
with the tasks' statuses replayed from it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from domain.swarm import Swarm
from domain.task import Task
from projections.metrics import SwarmMetricsProjection
from projections.queries import swarm_metrics
from projections.queries.metrics import success_rate
from tests.integration.helpers import events
from tests.integration.projections.conftest import Workload, caught_up

Key = tuple[str, datetime]


def from_the_log(app: Any) -> tuple[dict[Key, Counter[str]], dict[Key, int]]:
    """Per (swarm, minute): events counted, and the number of the swarm's tasks queued
    after the last event of that minute (tasks replayed by the domain itself)."""
    kinds = [v for v in vars(Task).values() if isinstance(v, type) and issubclass(v, Task.Event)]
    tasks: dict[Any, Task] = {}
    counts: dict[Key, Counter[str]] = {}
    depth: dict[Key, int] = {}
    for event in events(app, kinds=kinds):
        task = tasks[event.originator_id] = event.mutate(tasks.get(event.originator_id))
        if task.swarm_id is None:
            continue
        key = (str(task.swarm_id), event.timestamp.replace(second=0, microsecond=0))
        counted = counts.setdefault(key, Counter())
        if isinstance(event, Task.Created):
            counted["created"] += 1
        elif isinstance(event, Task.Completed):
            counted["completed"] += 1
        elif isinstance(event, Task.Failed | Task.TimedOut):
            counted["failed"] += 1
        depth[key] = sum(
            1 for t in tasks.values() if t.swarm_id == task.swarm_id and t.status == "queued"
        )
    return counts, depth


@pytest.mark.parametrize("workload", ["scripted", "simulated"])
def test_the_series_counts_what_the_log_holds(
    workload: str,
    request: pytest.FixtureRequest,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    source: Workload = request.getfixturevalue(workload)
    engine = engines(read_model_url)
    caught_up(source.app, engine, [SwarmMetricsProjection()])
    counts, depth = from_the_log(source.app)
    seen: set[Key] = set()
    with engine.connect() as conn:
        for swarm_id in source.of(Swarm):
            series = swarm_metrics(conn, swarm_id)
            for point in series.points:
                key = (str(swarm_id), point.minute)
                seen.add(key)
                expected = counts[key]
                assert (
                    point.tasks_created,
                    point.tasks_completed,
                    point.tasks_failed,
                    point.queue_depth_end,
                ) == (expected["created"], expected["completed"], expected["failed"], depth[key])
                assert point.success_rate == success_rate(expected["completed"], expected["failed"])
            totals = Counter[str]()
            for key, counted in counts.items():
                if key[0] == str(swarm_id):
                    totals.update(counted)
            assert (series.tasks_created, series.tasks_completed, series.tasks_failed) == (
                totals["created"],
                totals["completed"],
                totals["failed"],
            )
            assert series.success_rate == success_rate(totals["completed"], totals["failed"])
    assert {key for key, counted in counts.items() if counted} <= seen
    assert len({minute for _, minute in seen}) > 1


def test_the_series_starts_at_the_minute_asked_for(
    scripted: Workload, read_model_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(read_model_url)
    caught_up(scripted.app, engine, [SwarmMetricsProjection()], batch_size=1)
    swarm_id = scripted.of(Swarm)[1]  # the mesh: tasks over several minutes
    whole = swarm_metrics(engine, swarm_id)
    assert len(whole.points) > 2
    since = whole.points[1].minute.replace(second=30)
    later = swarm_metrics(engine, swarm_id, since=since)
    assert later.points == whole.points[1:]
    assert swarm_metrics(engine, "no-such-swarm").points == ()
