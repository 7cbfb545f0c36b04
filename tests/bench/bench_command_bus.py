"""Commands per second through the bus against raw eventsourcing saves, same store, same run.

The bus does for each command what the raw baseline does not: validation, loading
the aggregates it needs, the domain rules, context stamping and the retry loop.
Policies are consumers of the log (like projections) and are measured apart.
Run: `make bench` (PostgreSQL at 127.0.0.1:5432 for the PostgreSQL rows).
"""

from __future__ import annotations

import sys
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from adapters.event_store import event_store_env
from adapters.settings import Settings
from application.bootstrap import bootstrap
from application.commands import (
    AssignTask,
    CompleteTask,
    CreateTask,
    InitSwarm,
    SpawnAgent,
    StartTask,
)
from tests.bench.common import fresh_settings, median, rate, report

ROUNDS = 3
COMMANDS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


class Trivial(Aggregate):
    @event("Done")
    def done(self) -> None:
        pass


def raw_saves(settings: Settings, count: int) -> float:
    """The library alone: one save() per trivial aggregate (created, then one event)."""
    app: Application[UUID] = Application(event_store_env(settings))
    aggregates = [Trivial() for _ in range(count)]

    def run() -> None:
        for aggregate in aggregates:
            app.save(aggregate)

    result = rate(count, run)
    app.close()
    return result


def bus_commands(settings: Settings, count: int) -> dict[str, float]:
    """The same number of commands through the bus, by kind: spawn, create, assign, complete."""
    app = bootstrap(settings, inline_policies=False)
    handle = app.handle
    swarm = handle(InitSwarm(name="bench", topology="mesh", max_agents=1000)).aggregate_id
    per_kind = max(1, count // 4)
    agents: list[UUID] = []
    tasks: list[UUID] = []
    rates = {
        "spawn agent": rate(
            per_kind,
            lambda: agents.extend(
                handle(
                    SpawnAgent(
                        name=f"agent-{i}", agent_type="coder", capabilities=["python"], max_load=5
                    )
                ).aggregate_id
                for i in range(per_kind)
            ),
        ),
        "create task": rate(
            per_kind,
            lambda: tasks.extend(
                handle(
                    CreateTask(
                        description=f"task {i}",
                        task_type="code",
                        required_capabilities=["python"],
                        swarm_id=swarm,
                    )
                ).aggregate_id
                for i in range(per_kind)
            ),
        ),
        "assign task": rate(
            per_kind,
            lambda: [
                handle(AssignTask(task_id=t, agent_id=a))
                for t, a in zip(tasks, agents, strict=True)
            ],
        ),
    }
    for task in tasks:
        handle(StartTask(task_id=task))
    rates["complete task"] = rate(
        per_kind, lambda: [handle(CompleteTask(task_id=t, result="ok")) for t in tasks]
    )
    app.close()
    return rates


def main() -> None:
    rows = []
    for kind in ("sqlite", "postgres"):
        raw, mixed, kinds = [], [], []
        for _ in range(ROUNDS):
            with fresh_settings(kind) as settings:
                raw.append(raw_saves(settings, COMMANDS))
            with fresh_settings(kind) as settings:
                by_kind = bus_commands(settings, COMMANDS)
            kinds.append(by_kind)
            mixed.append(len(by_kind) / sum(1 / r for r in by_kind.values()))
        raw_rate, bus_rate = median(raw), median(mixed)
        rows.append([kind, "raw save() of a trivial aggregate", raw_rate, 1.0])
        for name in kinds[0]:
            value = median([k[name] for k in kinds])
            rows.append([kind, f"bus: {name}", value, round(value / raw_rate, 2)])
        rows.append([kind, "bus: the four mixed", bus_rate, round(bus_rate / raw_rate, 2)])
    report(
        f"command bus vs raw eventsourcing saves ({COMMANDS} per run, median of {ROUNDS})",
        ["store", "operation", "per second", "ratio to raw"],
        rows,
        "command_bus.json",
    )


if __name__ == "__main__":
    main()
