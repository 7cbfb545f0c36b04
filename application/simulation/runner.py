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
    CastVote,
    CompleteTask,
    CreateProposal,
    CreateTask,
    FailTask,
    InitSwarm,
    JoinSwarm,
    RetryTask,
    SpawnAgent,
    StartTask,
    TimeOutTask,
)
from application.simulation.config import SimulationConfig
from application.simulation.ground_truth import (
    WorkloadPlan,
    draw_attempt,
    plan_workload,
)
from domain.errors import AlreadyVoted, CapacityExceeded
from domain.proposal import Proposal, ProposalStatus
from domain.task import PRIORITY_RANK, Task, TaskStatus

PROTOCOLS = ("majority", "supermajority", "unanimous", "byzantine", "weighted")
SIMULATOR = "simulator"
TIMEOUT = timedelta(hours=6)
"""Every simulated task's timeout; an attempt the ground truth makes longer times out."""


@dataclass
class SimulationReport:
    seed: int
    strategy: str
    agents: int
    tasks: int
    commands: int = 0
    events: int = 0
    wall_seconds: float = 0.0
    simulated_seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    proposals: dict[str, int] = field(default_factory=dict)
    true_success_probability: float = 0.0
    """Mean ground-truth success probability of the assignments the strategy made."""

    @property
    def commands_per_second(self) -> float:
        return self.commands / self.wall_seconds if self.wall_seconds else 0.0


@dataclass
class SimulatedClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


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
        for swarm in self.plan.swarms:
            self.swarm_ids.append(
                self._do(
                    InitSwarm(
                        name=swarm.name,
                        topology=swarm.topology,
                        max_agents=swarm.max_agents,
                        max_depth=swarm.max_depth,
                        branching_factor=swarm.branching_factor,
                    )
                )
            )
        for i, agent in enumerate(self.plan.agents):
            agent_id = self._do(
                SpawnAgent(
                    name=agent.name,
                    agent_type=agent.agent_type,
                    capabilities=list(agent.capabilities),
                    max_load=agent.max_load,
                )
            )
            self.agent_ids.append(agent_id)
            self.agent_index[agent_id] = i
            self.load[agent_id] = 0
            self._join(agent_id, agent.swarm)
        for spec in self.plan.tasks:
            task_id = self._do(
                CreateTask(
                    description=spec.description,
                    task_type=spec.task_type,
                    priority=spec.priority,
                    required_capabilities=list(spec.required_capabilities),
                    dependencies=[self.task_ids[d] for d in spec.dependencies],
                    max_retries=spec.max_retries,
                    timeout_seconds=TIMEOUT.total_seconds(),
                    swarm_id=self.swarm_ids[spec.swarm],
                )
            )
            self.task_index[task_id] = len(self.task_ids)
            self.task_ids.append(task_id)
            if not spec.dependencies:
                self.queued.add(len(self.task_ids) - 1)

    def _join(self, agent_id: UUID, preferred: int) -> None:
        """Join the planned swarm, or the next one with room when its topology is full."""
        count = len(self.swarm_ids)
        for offset in range(count):
            index = (preferred + offset) % count
            try:
                self._do(JoinSwarm(swarm_id=self.swarm_ids[index], agent_id=agent_id))
            except CapacityExceeded:
                continue
            self.members.setdefault(index, []).append(agent_id)
            return

    def _dispatch(self) -> bool:
        """Assign queued tasks in priority order while agents have room."""
        full: set[int] = set()
        assigned = False
        order = sorted(self.queued, key=lambda i: (PRIORITY_RANK[self.plan.tasks[i].priority], i))
        for index in order:
            spec = self.plan.tasks[index]
            if spec.swarm in full:
                continue
            try:
                self._do(AssignTask(task_id=self.task_ids[index], strategy=self.strategy))
            except CapacityExceeded:
                full.add(spec.swarm)
                continue
            self.queued.discard(index)
            self._start(index)
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
        protocol = PROTOCOLS[(self.finished // self.proposal_every) % len(PROTOCOLS)]
        strategy = self.rng.choice(["balanced", "specialized", "adaptive"])
        proposal_id = self._do(
            CreateProposal(
                swarm_id=self.swarm_ids[swarm],
                proposer_id=self.rng.choice(members),
                title=f"switch to the {strategy} strategy",
                value={"strategy": strategy},
                protocol=protocol,
                action={"type": "change_strategy", "strategy": strategy},
            )
        )
        for phase in range(2):
            for voter in self.rng.sample(members, len(members)):
                if self.app.store.load(Proposal, proposal_id).status != ProposalStatus.OPEN:
                    break
                try:
                    self._do(
                        CastVote(
                            proposal_id=proposal_id,
                            voter_id=voter,
                            approve=self.rng.random() < 0.75,
                        )
                    )
                except AlreadyVoted:
                    continue
            if phase == 0 and protocol != "byzantine":
                break
        outcome = self.app.store.load(Proposal, proposal_id).status
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
