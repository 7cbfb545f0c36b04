"""The workload simulator driven through the real bus and store."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from application.bootstrap import Swarmlog
from application.simulation.config import load_config
from application.simulation.runner import SimulationReport, simulate
from domain.agent import Agent
from domain.task import Task
from tests.integration.conftest import MakeApp
from tests.integration.helpers import events

FINAL = {"completed", "cancelled", "timed_out", "failed"}


def run(app: Swarmlog, seed: int = 3, agents: int = 6, tasks: int = 40) -> SimulationReport:
    return simulate(app, load_config(None), agents=agents, tasks=tasks, seed=seed)


def final_statuses(app: Swarmlog) -> Counter[str]:
    statuses: Counter[str] = Counter()
    for created in events(app, kinds=[Task.Created]):
        task = app.store.load(Task, created.originator_id)
        assert task.is_final, f"task {task.id} ended {task.status}"
        statuses[task.status] += 1
    return statuses


def test_a_small_simulation_leaves_every_task_in_a_final_state(swarmlog: Swarmlog) -> None:
    report = run(swarmlog)
    statuses = final_statuses(swarmlog)
    assert sum(statuses.values()) == 40
    assert set(statuses) <= FINAL
    assert statuses == Counter(report.outcomes)
    assert report.events == swarmlog.store.head()
    for created in events(swarmlog, kinds=[Agent.Spawned]):  # and every agent is free again
        agent = swarmlog.store.load(Agent, created.originator_id)
        assert (agent.load, agent.state) == (0, "ready")


def test_durations_in_the_log_are_those_of_the_simulated_clock(swarmlog: Swarmlog) -> None:
    report = run(swarmlog)
    started: dict[Any, Any] = {}
    completed = 0
    for event in events(swarmlog, kinds=[Task.Started, Task.Completed]):
        if isinstance(event, Task.Started):
            started[event.originator_id] = event.timestamp
            continue
        completed += 1
        elapsed = (event.timestamp - started[event.originator_id]).total_seconds()
        assert event.duration_seconds > 0
        assert event.duration_seconds == pytest.approx(elapsed, abs=1e-6)
    assert completed == report.outcomes["completed"]
    first, *_, last = events(swarmlog)
    simulated = (last.timestamp - first.timestamp).total_seconds()
    assert simulated == pytest.approx(report.simulated_seconds, abs=1e-6)
    assert simulated > 3600  # hours of simulated work, run in seconds


def fingerprint(app: Swarmlog, report: SimulationReport) -> tuple[Any, ...]:
    """What must not differ between two runs of one seed."""
    log = events(app)
    agent_names = {e.originator_id: e.name for e in log if isinstance(e, Agent.Spawned)}
    task_names = {e.originator_id: e.description for e in log if isinstance(e, Task.Created)}
    assignments = [
        (task_names[e.originator_id], agent_names[e.agent_id])
        for e in log
        if isinstance(e, Task.Assigned)
    ]
    return (
        sorted(report.outcomes.items()),
        sorted(report.proposals.items()),
        [type(e).__qualname__ for e in log],
        assignments,
    )


def test_the_same_seed_gives_the_same_run_on_fresh_stores(make_app: MakeApp) -> None:
    # four runs, so that a chance agreement of the agents' random id order is negligible
    runs = []
    for _ in range(4):
        app = make_app()
        runs.append(fingerprint(app, run(app, seed=7, agents=10, tasks=30)))
    assert all(other == runs[0] for other in runs[1:])
