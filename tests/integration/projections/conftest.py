"""Fixtures of the read-model tests: a scripted workload that makes every kind of
event, a simulated one, fresh read-model databases, and table dumps to compare."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from application.bootstrap import Swarmlog, bootstrap
from application.commands import (
    AssignTask,
    CancelTask,
    CastVote,
    ChangeSwarmStrategy,
    CloseExpiredProposal,
    CompleteTask,
    FailTask,
    InitSwarm,
    JoinSwarm,
    LeaveSwarm,
    OptimizeSwarm,
    PauseAgent,
    ReportTaskProgress,
    ResumeAgent,
    RetryTask,
    ScaleSwarm,
    ShutdownSwarm,
    StartTask,
    TerminateAgent,
    TimeOutTask,
)
from application.simulation.config import load_config
from application.simulation.runner import simulate
from domain.agent import Agent
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from projections.database import read_model_engine
from projections.projection import Projection
from projections.queries._common import aware
from projections.runner import ProjectionRunner
from tests.conftest import PG, Clock, postgres_read_model_url, sqlite_settings
from tests.integration.helpers import (
    create_task,
    events,
    finish_task,
    init_swarm,
    propose,
    run_task,
    spawn,
    vote,
)

Step = Callable[[], None]
MakeUrl = Callable[[], str]


@dataclass
class Workload:
    """An app whose log holds a workload, and the ids of what it made, by kind."""

    app: Swarmlog
    ids: dict[type, list[UUID]] = field(default_factory=dict)

    def of(self, kind: type) -> list[UUID]:
        return self.ids.get(kind, [])


def ids_by_kind(app: Swarmlog) -> dict[type, list[UUID]]:
    """Every aggregate of the log, by kind, from its creation event."""
    created = {
        Agent.Spawned: Agent,
        Swarm.Initialized: Swarm,
        Task.Created: Task,
        Proposal.Created: Proposal,
    }
    found: dict[type, list[UUID]] = {kind: [] for kind in created.values()}
    for event in events(app, kinds=list(created)):
        found[created[type(event)]].append(event.originator_id)
    return found


def scripted_workload(app: Swarmlog, clock: Clock, step: Step = lambda: None) -> None:
    """Every kind of event of the four aggregates, spread over several minutes.

    ``step`` is called between the parts (to catch a read model up in the middle).
    """
    caps = [["python"], ["python", "sql"], ["go"], ["python", "go"], ["sql"], ["rust"]]
    caps += [["rust", "go"], ["c"]]
    a = [spawn(app, f"agent-{i}", caps[i], max_load=2) for i in range(8)]
    step()
    tree = app.handle(
        InitSwarm(
            name="tree", topology="hierarchical", max_agents=6, max_depth=3, branching_factor=2
        )
    ).aggregate_id
    for agent in a[:5]:
        app.handle(JoinSwarm(swarm_id=tree, agent_id=agent))
    mesh = init_swarm(app, a[5:8], topology="mesh")
    star = init_swarm(app, [], topology="star")
    step()
    clock.advance(minutes=1)
    app.handle(LeaveSwarm(swarm_id=tree, agent_id=a[0], reason="moved"), actor="alice")
    app.handle(ScaleSwarm(swarm_id=tree, max_agents=8), actor="alice")
    app.handle(JoinSwarm(swarm_id=tree, agent_id=a[0]))
    app.handle(OptimizeSwarm(swarm_id=tree), actor="bob", correlation_id="corr-1")
    app.handle(ChangeSwarmStrategy(swarm_id=tree, strategy="specialized"))
    step()

    t1 = create_task(app, swarm_id=tree, priority="high", required_capabilities=["python"])
    t2 = create_task(app, swarm_id=tree, dependencies=[t1])
    t3 = create_task(app, swarm_id=tree, dependencies=[t1, t2], priority="low")
    t4 = create_task(app, swarm_id=mesh, max_retries=1, priority="critical")
    t5 = create_task(app, swarm_id=mesh)
    t6 = create_task(app)
    t7 = create_task(app, swarm_id=mesh, timeout_seconds=30)
    step()
    clock.advance(minutes=1)
    run_task(app, t1, a[1])
    app.handle(ReportTaskProgress(task_id=t1, percent=40))
    clock.advance(seconds=30)
    app.handle(CompleteTask(task_id=t1, result="built"))
    step()
    finish_task(app, t2, a[2])
    app.handle(AssignTask(task_id=t3, strategy="capability"))
    app.handle(StartTask(task_id=t3))
    step()
    clock.advance(minutes=2)
    run_task(app, t4, a[5])
    app.handle(FailTask(task_id=t4, error="boom"))
    app.handle(RetryTask(task_id=t4))
    run_task(app, t4, a[6])
    app.handle(FailTask(task_id=t4, error="boom again"))
    app.handle(CancelTask(task_id=t5, reason="not needed"))
    app.handle(AssignTask(task_id=t6, agent_id=a[7]))
    app.handle(CancelTask(task_id=t6, reason="changed my mind"))
    run_task(app, t7, a[7])
    clock.advance(minutes=1)
    app.handle(TimeOutTask(task_id=t7))
    step()
    t8 = create_task(app, swarm_id=tree)
    app.handle(AssignTask(task_id=t8, agent_id=a[3]))
    app.handle(TerminateAgent(agent_id=a[3], reason="gone"))
    app.handle(PauseAgent(agent_id=a[4]))
    app.handle(ResumeAgent(agent_id=a[4]))
    app.handle(CompleteTask(task_id=t3, result="ok"))
    step()

    clock.advance(minutes=1)
    p1 = propose(app, mesh, a[5], action={"type": "change_strategy", "strategy": "adaptive"})
    vote(app, p1, a[5])
    vote(app, p1, a[6], approve=False)
    vote(app, p1, a[7])
    p2 = propose(app, tree, a[1], protocol="byzantine")
    for voter in (a[1], a[2], a[4], a[0]):
        vote(app, p2, voter)
        if app.store.load(Proposal, p2).phase == "commit":
            break
    for voter in (a[2], a[0], a[1]):
        vote(app, p2, voter)
    p3 = propose(app, mesh, a[6], protocol="weighted")
    vote_while_open(app, p3, [a[6], a[5], a[7]], approve=False)
    p4 = propose(app, mesh, a[7], ttl_seconds=60)
    vote(app, p4, a[7])
    t9 = create_task(app, swarm_id=mesh)
    run_task(app, t9, a[5])
    p5 = propose(
        app,
        mesh,
        a[5],
        protocol="unanimous",
        action={"type": "reassign_task", "task_id": str(t9), "agent_id": str(a[6])},
    )
    for voter in (a[5], a[6], a[7]):
        app.handle(CastVote(proposal_id=p5, voter_id=voter, approve=True), actor="carol")
    step()
    clock.advance(minutes=2)
    app.handle(CloseExpiredProposal(proposal_id=p4))
    app.handle(ShutdownSwarm(swarm_id=star, reason="unused"))
    step()


def vote_while_open(app: Swarmlog, proposal_id: UUID, voters: list[UUID], approve: bool) -> None:
    for voter in voters:
        if app.store.load(Proposal, proposal_id).status != "open":
            return
        vote(app, proposal_id, voter, approve)


@pytest.fixture
def scripted(tmp_path: Path, clock: Clock) -> Iterator[Workload]:
    app = bootstrap(sqlite_settings(tmp_path / "scripted"), clock=clock)
    scripted_workload(app, clock)
    yield Workload(app, ids_by_kind(app))
    app.close()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workload]:
    """A realistic workload (shared by the tests of a module: it is only read)."""
    app = bootstrap(sqlite_settings(tmp_path_factory.mktemp("simulated")))
    simulate(app, load_config(None), agents=8, tasks=60, seed=11)
    yield Workload(app, ids_by_kind(app))
    app.close()


@pytest.fixture
def make_url(read_model_url: str, tmp_path: Path) -> Iterator[MakeUrl]:
    """More empty read-model databases of the same kind as ``read_model_url``."""
    import psycopg

    schemas: list[str] = []
    numbers = itertools.count()

    def make() -> str:
        if read_model_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'read_models_{next(numbers)}.db'}"
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return postgres_read_model_url(schema)

    yield make
    for schema in schemas:
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def engines() -> Iterator[Callable[[str], Engine]]:
    """Read-model engines on demand, all disposed afterwards."""
    made: list[Engine] = []

    def make(url: str) -> Engine:
        made.append(read_model_engine(url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def caught_up(
    app: Swarmlog, engine: Engine, projections: list[Projection], batch_size: int = 7
) -> ProjectionRunner:
    runner = ProjectionRunner(app.store, engine, projections, batch_size=batch_size)
    runner.setup()
    runner.catch_up()
    assert all(s["lag"] == 0 and s["dead_letters"] == 0 for s in runner.status()), runner.status()
    return runner


def dump(engine: Engine, projection: Projection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the projection (through its views), rows in primary-key order,
    times as aware UTC."""
    tables = {}
    with engine.connect() as conn:
        for name, view in projection.views().items():
            keys = [c for c in view.columns if c.primary_key]
            rows = conn.execute(select(view).order_by(*keys)).all()
            tables[name] = [tuple(_plain(v) for v in row) for row in rows]
    return tables


def _plain(value: Any) -> Any:
    from datetime import datetime

    return aware(value) if isinstance(value, datetime) else value
