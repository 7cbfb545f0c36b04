"""The swarms read model agrees with the Swarm aggregates, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from domain.swarm import Swarm
from projections.queries import SwarmView, get_swarm, list_swarms, swarm_members
from projections.swarms import SwarmsProjection
from tests.integration.helpers import events
from tests.integration.projections.conftest import Workload, caught_up


def expected_swarm(swarm: Swarm) -> SwarmView:
    return SwarmView(
        swarm_id=str(swarm.id),
        name=swarm.name,
        topology=swarm.topology,
        strategy=swarm.strategy,
        max_agents=swarm.max_agents,
        max_depth=swarm.max_depth,
        branching_factor=swarm.branching_factor,
        status=swarm.status,
        leader_id=swarm.leader_id,
        member_count=len(swarm.members),
        created_at=swarm.created_on,
        updated_at=swarm.modified_on,
        version=swarm.version,
    )


@pytest.mark.parametrize("workload", ["scripted", "simulated"])
def test_every_swarm_its_members_and_links_agree_with_the_aggregate(
    workload: str,
    request: pytest.FixtureRequest,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    source: Workload = request.getfixturevalue(workload)
    engine = engines(read_model_url)
    caught_up(source.app, engine, [SwarmsProjection()])
    swarm_ids = source.of(Swarm)
    assert swarm_ids
    with engine.connect() as conn:
        assert len(list_swarms(conn)) == len(swarm_ids)
        for swarm_id in swarm_ids:
            swarm = source.app.store.load(Swarm, swarm_id)
            assert get_swarm(conn, swarm_id) == expected_swarm(swarm)
            found = swarm_members(conn, swarm_id)
            assert found is not None
            members = {
                m.agent_id: {
                    "agent_type": m.agent_type,
                    "capabilities": list(m.capabilities),
                    "parent_id": m.parent_id,
                    "depth": m.depth,
                    "position": m.position,
                }
                for m in found.members
            }
            assert members == swarm.members
            assert [m.agent_id for m in found.members] == sorted(
                swarm.members, key=lambda m: swarm.members[m]["position"]
            )
            assert all(m.joined_at is not None for m in found.members)
            assert list(found.links) == swarm.links()


def test_the_scripted_workload_moves_members_of_the_tree(scripted: Workload) -> None:
    """What the test above relies on: members left with replacements, and were re-placed."""
    left = events(scripted.app, kinds=[Swarm.MemberLeft])
    assert any(e.replacements for e in left)
    assert events(scripted.app, kinds=[Swarm.Optimized])
    assert events(scripted.app, kinds=[Swarm.ShutDown])
