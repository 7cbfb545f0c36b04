"""The query functions: keyset pages without duplicates or gaps, the page-size cap, and
filters that select what the aggregates say, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from application.bootstrap import bootstrap
from application.commands import AssignTask, JoinSwarm, PauseAgent
from domain.agent import Agent
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from projections.agents import AgentsProjection
from projections.audit import AuditProjection
from projections.proposals import ProposalsProjection
from projections.queries import (
    AuditEntry,
    audit_log,
    get_agent,
    get_proposal,
    get_swarm,
    get_task,
    list_agents,
    list_proposals,
    list_swarms,
    list_tasks,
    swarm_members,
)
from projections.swarms import SwarmsProjection
from projections.tasks import TasksProjection
from tests.conftest import Clock, sqlite_settings
from tests.integration.helpers import create_task, events, events_of, init_swarm, spawn
from tests.integration.projections.conftest import Workload, caught_up, ids_by_kind

CROWD = 205
TYPES = ("coder", "tester", "reviewer")
PRIORITIES = ("critical", "high", "normal", "low", "background")


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workload]:
    """More agents and tasks than the largest page: some paused, some in a swarm,
    tasks of every priority, some assigned."""
    app = bootstrap(sqlite_settings(tmp_path_factory.mktemp("crowd")), clock=Clock())
    agents = [spawn(app, f"agent-{i}", agent_type=TYPES[i % 3], max_load=5) for i in range(CROWD)]
    swarm = init_swarm(app, max_agents=100)
    for agent in agents[::4]:
        app.handle(JoinSwarm(swarm_id=swarm, agent_id=agent))
    for agent in agents[1::10]:
        app.handle(PauseAgent(agent_id=agent))
    tasks = [
        create_task(app, priority=PRIORITIES[i % 5], swarm_id=swarm if i % 2 else None)
        for i in range(CROWD)
    ]
    for i, task in enumerate(tasks[:20]):
        app.handle(AssignTask(task_id=task, agent_id=agents[::4][i % 6]))
    yield Workload(app, ids_by_kind(app))
    app.close()


@pytest.fixture
def crowd_engine(crowd: Workload, read_model_url: str, engines: Callable[[str], Engine]) -> Engine:
    engine = engines(read_model_url)
    caught_up(crowd.app, engine, [AgentsProjection(), TasksProjection()], batch_size=1000)
    return engine


def pages(fetch: Callable[..., list[Any]], key: str, limit: int, **filters: Any) -> list[str]:
    """Every id the query gives, page after page; checks each page's size."""
    ids: list[str] = []
    while True:
        page = fetch(after=ids[-1] if ids else None, limit=limit, **filters)
        assert len(page) <= limit
        ids += [getattr(row, key) for row in page]
        if len(page) < limit:
            return ids


def test_agent_pages_have_no_duplicates_or_gaps(crowd: Workload, crowd_engine: Engine) -> None:
    everyone = sorted(str(a) for a in crowd.of(Agent))
    with crowd_engine.connect() as conn:
        for limit in (1, 17, 50, 200):
            assert pages(lambda **kw: list_agents(conn, **kw), "agent_id", limit) == everyone
        paused = pages(lambda **kw: list_agents(conn, **kw), "agent_id", 7, state="paused")
    assert paused == sorted(
        str(a) for a in crowd.of(Agent) if crowd.app.store.load(Agent, a).state == "paused"
    )
    assert paused


def test_task_pages_have_no_duplicates_or_gaps(crowd: Workload, crowd_engine: Engine) -> None:
    everything = sorted(str(t) for t in crowd.of(Task))
    with crowd_engine.connect() as conn:
        for limit in (3, 64, 200):
            assert pages(lambda **kw: list_tasks(conn, **kw), "task_id", limit) == everything
        high = pages(lambda **kw: list_tasks(conn, **kw), "task_id", 9, priority="high")
    assert high == sorted(
        str(t) for t in crowd.of(Task) if crowd.app.store.load(Task, t).priority == "high"
    )


def test_a_page_holds_at_most_200_rows(crowd_engine: Engine) -> None:
    assert len(list_agents(crowd_engine, limit=1000)) == 200
    assert len(list_tasks(crowd_engine, limit=201)) == 200
    assert len(list_agents(crowd_engine)) == 50
    with pytest.raises(ValueError, match="limit"):
        list_tasks(crowd_engine, limit=0)


def select_agents(crowd: Workload, **wanted: Any) -> list[str]:
    chosen = []
    for agent_id in crowd.of(Agent):
        agent = crowd.app.store.load(Agent, agent_id)
        if all(getattr(agent, k) == v for k, v in wanted.items()):
            chosen.append(str(agent_id))
    return sorted(chosen)


def test_agent_filters_select_what_the_aggregates_say(
    crowd: Workload, crowd_engine: Engine
) -> None:
    swarm = crowd.app.store.load(Swarm, crowd.of(Swarm)[0])
    with crowd_engine.connect() as conn:
        for state in ("ready", "paused", "working"):
            found = [a.agent_id for a in list_agents(conn, state=state, limit=200)]
            assert found == select_agents(crowd, state=state)[:200]
        coders = pages(lambda **kw: list_agents(conn, **kw), "agent_id", 30, agent_type="coder")
        assert coders == select_agents(crowd, agent_type="coder")
        members = [a.agent_id for a in list_agents(conn, swarm_id=swarm.id, limit=200)]
        assert members == sorted(swarm.members)
        both = list_agents(conn, swarm_id=swarm.id, state="working", agent_type="coder")
        assert [a.agent_id for a in both] == sorted(
            set(members) & set(select_agents(crowd, state="working", agent_type="coder"))
        )
        assert get_agent(conn, UUID(members[0])) is not None
        assert get_agent(conn, "no-such-agent") is None


def test_task_filters_select_what_the_aggregates_say(crowd: Workload, crowd_engine: Engine) -> None:
    tasks = [crowd.app.store.load(Task, t) for t in crowd.of(Task)]
    swarm_id = crowd.of(Swarm)[0]
    holder = next(t.agent_id for t in tasks if t.agent_id is not None)

    def expected(**wanted: Any) -> list[str]:
        return sorted(
            str(t.id) for t in tasks if all(getattr(t, k) == v for k, v in wanted.items())
        )

    with crowd_engine.connect() as conn:

        def every(**filters: Any) -> list[str]:
            return pages(lambda **kw: list_tasks(conn, **kw), "task_id", 40, **filters)

        assert every(status="assigned") == expected(status="assigned")
        assert every(status="queued") == expected(status="queued")
        assert every(priority="low") == expected(priority="low")
        assert every(agent_id=holder) == expected(agent_id=holder)
        assert every(swarm_id=swarm_id) == expected(swarm_id=swarm_id)
        assert every(swarm_id=swarm_id, priority="critical", status="queued") == expected(
            swarm_id=swarm_id, priority="critical", status="queued"
        )
        assert every(status="completed") == []
        assert get_task(conn, "no-such-task") is None


@pytest.fixture
def scripted_engine(
    scripted: Workload, read_model_url: str, engines: Callable[[str], Engine]
) -> Engine:
    engine = engines(read_model_url)
    projections = [SwarmsProjection(), ProposalsProjection(), AuditProjection()]
    caught_up(scripted.app, engine, projections, batch_size=1000)
    return engine


def test_swarm_and_proposal_lists_page_and_filter(
    scripted: Workload, scripted_engine: Engine
) -> None:
    swarms = [scripted.app.store.load(Swarm, s) for s in scripted.of(Swarm)]
    proposals = [scripted.app.store.load(Proposal, p) for p in scripted.of(Proposal)]
    with scripted_engine.connect() as conn:
        for limit in (1, 2, 200):
            assert pages(lambda **kw: list_swarms(conn, **kw), "swarm_id", limit) == sorted(
                str(s.id) for s in swarms
            )
            assert pages(lambda **kw: list_proposals(conn, **kw), "proposal_id", limit) == sorted(
                str(p.id) for p in proposals
            )
        assert [s.swarm_id for s in list_swarms(conn, status="shut_down")] == [
            str(s.id) for s in swarms if s.status == "shut_down"
        ]
        assert [s.swarm_id for s in list_swarms(conn, topology="hierarchical")] == [
            str(s.id) for s in swarms if s.topology == "hierarchical"
        ]
        mesh = next(s for s in swarms if s.topology == "mesh")
        assert [p.proposal_id for p in list_proposals(conn, swarm_id=mesh.id)] == sorted(
            str(p.id) for p in proposals if p.swarm_id == mesh.id
        )
        assert [p.proposal_id for p in list_proposals(conn, status="expired")] == [
            str(p.id) for p in proposals if p.status == "expired"
        ]
        assert get_swarm(conn, "no-such-swarm") is None
        assert swarm_members(conn, "no-such-swarm") is None
        assert get_proposal(conn, "no-such-proposal") is None
        with pytest.raises(ValueError, match="limit"):
            list_proposals(conn, limit=-1)


def audit_pages(conn: Any, limit: int, **filters: Any) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    while True:
        page = audit_log(
            conn, after=entries[-1].cursor if entries else None, limit=limit, **filters
        )
        assert len(page) <= limit
        entries += page
        if len(page) < limit:
            return entries


def test_audit_log_pages_filters_and_order(scripted: Workload, scripted_engine: Engine) -> None:
    logged = events(scripted.app)
    with scripted_engine.connect() as conn:
        whole = audit_log(conn, limit=10_000)
        assert len(whole) == len(logged)
        assert len(audit_log(conn, limit=5000)) <= 1000
        for limit in (1, 10, 33):
            assert audit_pages(conn, limit) == whole
        keys = [(e.occurred_at, e.stream_id, e.version) for e in whole]
        assert keys == sorted(keys)
        alice = audit_pages(conn, 2, actor="alice")
        assert [(e.stream_id, e.version) for e in alice] == [
            (str(e.originator_id), e.originator_version) for e in logged if e.actor == "alice"
        ]
        stream = scripted.of(Task)[0]
        mine = audit_pages(conn, 3, stream_id=stream)
        assert [(e.version, e.event_type) for e in mine] == [
            (e.originator_version, type(e).__qualname__) for e in events_of(scripted.app, stream)
        ]
        nobody = audit_log(conn, actor="nobody")
        assert nobody == []
