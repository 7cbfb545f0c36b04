"""The tracker turns a task's lifecycle into an example, counting load from task events."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from adapters.neural.features import AgentFacts
from adapters.neural.tracker import LogTracker
from domain.agent import Agent
from domain.swarm import Swarm
from domain.task import Task


class World:
    """Domain aggregates driven by hand; their events fed to a tracker in order."""

    def __init__(self) -> None:
        self.tracker = LogTracker()
        self.position = 0
        self.swarm = Swarm.init(name="s", topology="mesh", max_agents=5)
        self.agents = [
            self._agent("coder-1", "coder", ["python"], 2),
            self._agent("tester-1", "tester", ["testing"], 1),
        ]
        for agent in self.agents:
            self.swarm.join(agent.id, agent.agent_type, agent.capabilities)
        self.feed(self.swarm, *self.agents)

    def _agent(self, name: str, kind: str, caps: list[str], max_load: int) -> Agent:
        agent = Agent.spawn(name=name, agent_type=kind, capabilities=caps, max_load=max_load)
        agent.transition("initializing")
        agent.transition("ready")
        return agent

    def feed(self, *aggregates: Any) -> list[Any]:
        found = []
        for aggregate in aggregates:
            for event in aggregate.collect_events():
                self.position += 1
                example = self.tracker.apply(self.position, event)
                if example is not None:
                    found.append(example)
        return found

    def task(self, task_type: str = "code", required: tuple[str, ...] = ("python",)) -> Task:
        task = Task.create(
            description="t", task_type=task_type, required_capabilities=required,
            swarm_id=self.swarm.id,
        )  # fmt: skip
        self.feed(task)
        return task


def test_a_completed_attempt_becomes_an_example_with_the_facts_at_assignment() -> None:
    world = World()
    coder = world.agents[0]
    first, second = world.task(), world.task()
    first.assign(coder.id, "manual", 1.0)
    first.start()
    world.feed(first)
    second.assign(coder.id, "manual", 1.0)
    second.start()
    world.feed(second)
    first.complete("ok")
    (example,) = world.feed(first)
    assert example.outcome == 1
    assert example.task.task_type == "code"
    assert example.agent == AgentFacts("coder", ("python",), 0, 2, 0.5, 0)
    assert example.swarm.topology == "mesh"
    assert example.swarm.size == 2
    assert example.swarm_id == str(world.swarm.id)
    assert [c.name for c in example.candidates] == ["coder-1", "tester-1"]
    assert example.coordination is not None
    second.fail("no")
    (failed,) = world.feed(second)
    assert failed.outcome == 0
    assert failed.coordination is None
    assert failed.agent.load == 1  # the first task was still held when the second came
    assert [c.name for c in failed.candidates] == ["coder-1", "tester-1"]


def test_a_full_agent_is_no_candidate_and_load_returns_when_tasks_end() -> None:
    world = World()
    tester = world.agents[1]
    first, second = world.task("test", ()), world.task("test", ())
    first.assign(tester.id, "manual", 1.0)
    world.feed(first)
    second.assign(world.agents[0].id, "manual", 1.0)
    world.feed(second)
    assert world.tracker.tables["agent"].rows[str(tester.id)]["load"] == 1
    # the tester (max_load 1) was full when the second task was assigned
    assert [
        c["name"] for c in world.tracker.tables["attempt"].rows[str(second.id)]["candidates"]
    ] == ["coder-1"]
    first.cancel("no longer needed")
    assert world.feed(first) == []
    assert world.tracker.tables["agent"].rows[str(tester.id)]["load"] == 0


def test_a_timed_out_attempt_has_a_duration_but_no_outcome() -> None:
    world = World()
    task = world.task()
    task.assign(world.agents[0].id, "manual", 1.0)
    task.start()
    world.feed(task)
    started = task.started_at
    assert started is not None
    task.time_out(started + timedelta(seconds=400))
    (example,) = world.feed(task)
    assert example.outcome is None
    assert example.duration_bucket is not None


def test_changes_name_the_rows_written_and_deleted_since_last_asked() -> None:
    world = World()
    world.tracker.changes()
    task = world.task()
    changes = world.tracker.changes()
    assert [(kind, key) for kind, key, _ in changes.written] == [("task", str(task.id))]
    task.cancel("gone")
    world.feed(task)
    assert world.tracker.changes().deleted == [("task", str(task.id))]
    assert world.tracker.changes().written == []


def test_a_tracker_rebuilt_from_its_rows_goes_on_identically() -> None:
    world = World()
    task = world.task()
    task.assign(world.agents[0].id, "manual", 1.0)
    task.start()
    world.feed(task)
    rows = [
        (kind, key, json.loads(json.dumps(row)))  # as stored and read back
        for kind, table in world.tracker.tables.items()
        for key, row in table.rows.items()
    ]
    task.complete("ok")
    events = list(task.collect_events())
    again = LogTracker(rows)
    original = world.tracker
    assert original.apply(100, events[0]) == again.apply(100, events[0])
