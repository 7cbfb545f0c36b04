"""The workload simulator: a planned workload driven through the real command bus.

Time is simulated: the bus's clock is set to the simulation's clock, so every
event carries the simulated time at which it happened and durations in the log
are the durations the ground truth drew. The same seed gives the same run.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from application.bootstrap import Swarmlog
from application.commands import (
    AssignTask,
    CancelTask,
    CompleteTask,
    FailTask,
    RetryTask,
    StartTask,
    TimeOutTask,
)
from application.simulation.config import SimulationConfig
from application.simulation.ground_truth import draw_attempt
from application.simulation.proposals import propose_strategy_change
from application.simulation.report import SimulatedClock
from application.simulation.report import SimulationReport as SimulationReport
from application.simulation.setup import set_up
from application.simulation.workload import WorkloadPlan, plan_workload
from domain.errors import CapacityExceeded
from domain.task import PRIORITY_RANK, Task, TaskStatus

SIMULATOR = "simulator"
TIMEOUT = timedelta(hours=6)
"""Every simulated task's timeout; an attempt the ground truth makes longer times out."""


@dataclass
class Simulation:
    app: Swarmlog
    config: SimulationConfig
    plan: WorkloadPlan
    strategy: str = "capability"
    proposal_every: int = 25
    on_progress: Callable[[int], None] | None = None
    clock: SimulatedClock = field(default_factory=lambda: SimulatedClock(datetime.now(UTC)))

    def __post_init__(self) -> None:
        self.report = SimulationReport(
            self.plan.seed, self.strategy, len(self.plan.agents), len(self.plan.tasks)
        )
        self.rng = random.Random(self.plan.seed + 1)
        self.swarm_ids: list[UUID] = []
        self.agent_ids: list[UUID] = []
        self.agent_index: dict[UUID, int] = {}
        self.members: dict[int, list[UUID]] = {}
        self.task_ids: list[UUID] = []
        self.task_index: dict[UUID, int] = {}
        self.load: dict[UUID, int] = {}
        self.attempt_rngs = [spec.rng() for spec in self.plan.tasks]
        self.queued: set[int] = set()
        self.running: list[tuple[datetime, int, int, str]] = []
        self.probabilities: list[float] = []
        self.finished = 0

    def run(self) -> SimulationReport:
        started, head = time.perf_counter(), self.app.store.head()
        original_clock, self.app.bus.clock = self.app.bus.clock, self.clock
        begin = self.clock.now
        try:
            self._set_up()
            while self._dispatch() or self.running:
                if self.running:
                    self._finish_next()
            self._cancel_stranded()
        finally:
            self.app.bus.clock = original_clock
        self.report.wall_seconds = time.perf_counter() - started
        self.report.events = self.app.store.head() - head
        self.report.simulated_seconds = (self.clock.now - begin).total_seconds()
        if self.probabilities:
            self.report.true_success_probability = sum(self.probabilities) / len(self.probabilities)
        return self.report

    def _do(self, command: object) -> UUID:
        self.report.commands += 1
        return self.app.handle(command, actor=SIMULATOR).aggregate_id  # type: ignore[arg-type]

    def _set_up(self) -> None:
        roster = set_up(self._do, self.plan, TIMEOUT)
        self.swarm_ids, self.agent_ids = roster.swarm_ids, roster.agent_ids
        self.task_ids, self.members = roster.task_ids, roster.members
        self.agent_index = {agent_id: i for i, agent_id in enumerate(self.agent_ids)}
        self.task_index = {task_id: i for i, task_id in enumerate(self.task_ids)}
        self.load = dict.fromkeys(self.agent_ids, 0)
        self.queued = {i for i, spec in enumerate(self.plan.tasks) if not spec.dependencies}

    def _has_room(self, swarm: int) -> bool:
        """Whether a member of the swarm can take a task (so assigning is worth a try)."""
        agents = self.plan.agents
        return any(
            self.load[a] < agents[self.agent_index[a]].max_load for a in self.members.get(swarm, [])
        )

    def _dispatch(self) -> bool:
        """Assign queued tasks in priority order while agents have room."""
        full: set[int] = set()
        room: dict[int, bool] = {}
        assigned = False
        order = sorted(self.queued, key=lambda i: (PRIORITY_RANK[self.plan.tasks[i].priority], i))
        for index in order:
            spec = self.plan.tasks[index]
            if spec.swarm not in room:
                room[spec.swarm] = self._has_room(spec.swarm)
            if spec.swarm in full or not room[spec.swarm]:
                continue
            try:
                self._do(AssignTask(task_id=self.task_ids[index], strategy=self.strategy))
            except CapacityExceeded:
                full.add(spec.swarm)
                continue
            self.queued.discard(index)
            self._start(index)
            room.pop(spec.swarm)
            assigned = True
        return assigned

    def _start(self, index: int) -> None:
        task_id = self.task_ids[index]
        agent_id = self.app.store.load(Task, task_id).agent_id
        agent_spec = self.plan.agents[self.agent_index[agent_id]]
        load_fraction = min(1.0, self.load[agent_id] / agent_spec.max_load)
        self.load[agent_id] += 1
        self._do(StartTask(task_id=task_id))
        draw = draw_attempt(
            self.attempt_rngs[index],
            self.config,
            agent_spec.features(load_fraction),
            self.plan.tasks[index].features,
        )
        self.probabilities.append(draw.probability)
        duration = timedelta(seconds=draw.duration_seconds)
        outcome = "completed" if draw.succeeded else "failed"
        if duration > TIMEOUT:
            duration, outcome = TIMEOUT, "timed_out"
        agent_i = self.agent_index[agent_id]
        heapq.heappush(self.running, (self.clock.now + duration, index, agent_i, outcome))

    def _finish_next(self) -> None:
        ends, index, agent_i, outcome = heapq.heappop(self.running)
        task_id = self.task_ids[index]
        self.clock.now = max(self.clock.now, ends)
        self.load[self.agent_ids[agent_i]] -= 1
        if outcome == "timed_out":
            self._do(TimeOutTask(task_id=task_id))
            self._count("timed_out")
        elif outcome == "completed":
            self._do(CompleteTask(task_id=task_id, result="done"))
            self._count("completed")
            self._release_dependents(index)
        else:
            self._do(FailTask(task_id=task_id, error="the attempt failed"))
            if self.app.store.load(Task, task_id).retries < self.plan.tasks[index].max_retries:
                self._do(RetryTask(task_id=task_id))
                self.queued.add(index)
            else:
                self._count("failed")
        self.finished += 1
        if self.proposal_every and self.finished % self.proposal_every == 0:
            self._propose(self.plan.tasks[index].swarm)

    def _count(self, outcome: str) -> None:
        self.report.outcomes[outcome] = self.report.outcomes.get(outcome, 0) + 1
        if self.on_progress:
            self.on_progress(1)

    def _release_dependents(self, index: int) -> None:
        for dependent in self.app.store.load(Task, self.task_ids[index]).dependents:
            position = self.task_index[dependent]
            if self.app.store.load(Task, dependent).status == TaskStatus.QUEUED:
                self.queued.add(position)

    def _cancel_stranded(self) -> None:
        """Tasks still blocked wait on one that failed for good: cancel them."""
        for task_id in self.task_ids:
            if self.app.store.load(Task, task_id).status == TaskStatus.BLOCKED:
                self._do(CancelTask(task_id=task_id, reason="a dependency failed"))
                self._count("cancelled")

    def _propose(self, swarm: int) -> None:
        members = self.members.get(swarm, [])
        if not members:
            return
        outcome = propose_strategy_change(
            self._do,
            self.app.store,
            self.rng,
            self.swarm_ids[swarm],
            members,
            self.finished // self.proposal_every,
        )
        self.report.proposals[outcome] = self.report.proposals.get(outcome, 0) + 1


def simulate(
    app: Swarmlog,
    config: SimulationConfig,
    *,
    agents: int,
    tasks: int,
    seed: int,
    strategy: str = "capability",
    on_progress: Callable[[int], None] | None = None,
) -> SimulationReport:
    plan = plan_workload(config, seed, agents, tasks)
    return Simulation(app, config, plan, strategy, on_progress=on_progress).run()
