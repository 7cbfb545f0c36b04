"""The expertise read model agrees with the agents' voting records, and its score is the
domain's, at any time of reading."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from domain.agent import Agent
from projections.expertise import ExpertiseProjection
from projections.queries import agent_expertise
from tests.integration.projections.conftest import Workload, caught_up


@pytest.mark.parametrize("workload", ["scripted", "simulated"])
def test_every_agents_expertise_agrees_with_the_aggregate(
    workload: str,
    request: pytest.FixtureRequest,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    source: Workload = request.getfixturevalue(workload)
    engine = engines(read_model_url)
    caught_up(source.app, engine, [ExpertiseProjection()])
    voted = 0
    with engine.connect() as conn:
        for agent_id in source.of(Agent):
            agent = source.app.store.load(Agent, agent_id)
            view = agent_expertise(conn, agent_id, agent.modified_on)
            assert view is not None
            assert (view.votes_cast, view.votes_agreed, view.last_vote_at) == (
                agent.votes_cast,
                agent.votes_agreed,
                agent.last_vote_at,
            )
            if agent.votes_cast:
                voted += 1
                assert view.accuracy == agent.votes_agreed / agent.votes_cast
            assert view.volume == min(1.0, agent.votes_cast / 20)
            for later in (timedelta(0), timedelta(hours=5), timedelta(days=9), timedelta(days=90)):
                now = agent.modified_on + later
                found = agent_expertise(conn, agent_id, now)
                assert found is not None
                assert found.expertise == agent.expertise(now)
    assert voted


def test_an_unknown_agent_has_no_expertise(
    scripted: Workload, read_model_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(read_model_url)
    caught_up(scripted.app, engine, [ExpertiseProjection()])
    any_time = scripted.app.store.load(Agent, scripted.of(Agent)[0]).modified_on
    assert agent_expertise(engine, "no-such-agent", any_time) is None
