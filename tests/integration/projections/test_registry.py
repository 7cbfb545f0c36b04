"""The registry holds every read model once, their tables do not collide, and all of them
run side by side; the agents read model agrees with the Agent aggregates."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from domain.agent import Agent
from domain.swarm import Swarm
from projections.agents import AgentsProjection
from projections.projection import Projection
from projections.queries import AgentView, get_agent
from projections.registry import all_projections
from tests.integration.projections.conftest import Workload, caught_up


def test_every_read_model_is_registered_once_with_tables_of_its_own() -> None:
    projections = all_projections()
    names = [p.name for p in projections]
    assert sorted(names) == sorted(
        ["agents", "tasks", "swarms", "proposals", "expertise", "audit", "swarm_metrics"]
    )
    assert any(isinstance(p, AgentsProjection) for p in projections)
    tables = [t for p in projections for t in p.columns]
    assert len(tables) == len(set(tables))
    assert all(
        type(p).prefetch is not Projection.prefetch or p.name == "audit" for p in projections
    )
    assert all_projections()[0] is not projections[0]


def expected_agent(agent: Agent, swarm_id: str | None) -> AgentView:
    return AgentView(
        agent_id=str(agent.id),
        name=agent.name,
        agent_type=agent.agent_type,
        capabilities=tuple(agent.capabilities),
        state=agent.state,
        swarm_id=swarm_id,
        current_tasks=tuple(str(t) for t in agent.current_tasks),
        load=agent.load,
        max_load=agent.max_load,
        completed_count=agent.completed_count,
        failed_count=agent.failed_count,
        success_rate=agent.success_rate,
        version=agent.version,
        created_at=agent.created_on,
        updated_at=agent.modified_on,
    )


@pytest.mark.parametrize("workload", ["scripted", "simulated"])
def test_all_read_models_run_together_and_agents_agree_with_the_aggregates(
    workload: str,
    request: pytest.FixtureRequest,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    source: Workload = request.getfixturevalue(workload)
    engine = engines(read_model_url)
    caught_up(source.app, engine, all_projections(), batch_size=7)
    swarm_of = {
        member: str(swarm_id)
        for swarm_id in source.of(Swarm)
        for member in source.app.store.load(Swarm, swarm_id).members
    }
    with engine.connect() as conn:
        for agent_id in source.of(Agent):
            agent = source.app.store.load(Agent, agent_id)
            assert get_agent(conn, agent_id) == expected_agent(agent, swarm_of.get(str(agent_id)))
