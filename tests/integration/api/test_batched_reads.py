"""A page of entities costs a fixed number of read-model queries, however many
entities it holds: the fields that reach into other tables go through DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from adapters.settings import Settings
from api.graphql.context import Context
from api.graphql.schema import schema
from api.runtime import Runtime, start
from application.commands import (
    AssignTask,
    CastVote,
    CreateProposal,
    CreateTask,
    InitSwarm,
    JoinSwarm,
    SpawnAgent,
)

SWARMS = 4
MEMBERS = 3


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        event_store="sqlite",
        sqlite_path=tmp_path / "events.db",
        read_model_url=f"sqlite:///{tmp_path / 'read_models.db'}",
    )
    runtime = start(settings, worker=False)
    handle = runtime.swarmlog.handle
    for s in range(SWARMS):
        swarm = handle(InitSwarm(name=f"s{s}", topology="star")).aggregate_id
        members = []
        for m in range(MEMBERS):
            agent = handle(SpawnAgent(name=f"a{s}{m}", agent_type="coder", capabilities=["py"]))
            handle(JoinSwarm(swarm_id=swarm, agent_id=agent.aggregate_id))
            members.append(agent.aggregate_id)
            task = handle(CreateTask(description=f"t{s}{m}", task_type="code"))
            handle(AssignTask(task_id=task.aggregate_id, agent_id=agent.aggregate_id))
        proposal = handle(
            CreateProposal(swarm_id=swarm, proposer_id=members[0], title="p", value="v")
        )
        for voter in members[:2]:  # a majority of three decides at two
            handle(CastVote(proposal_id=proposal.aggregate_id, voter_id=voter, approve=True))
    runtime.runner.catch_up()
    yield runtime
    runtime.stop()


def run(runtime: Runtime, query: str) -> tuple[dict[str, Any], int]:
    """The query's data, and how many SELECTs it sent to the read models."""
    statements = []

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):  # not the BEGINs
            statements.append(args[2])

    token = runtime.tokens.issue("tester", "admin")
    event.listen(runtime.runner.engine, "before_cursor_execute", count)
    try:
        context = Context(runtime=runtime, authorization=f"Bearer {token}")
        result = asyncio.run(schema.execute(query, context_value=context))
    finally:
        event.remove(runtime.runner.engine, "before_cursor_execute", count)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data, len(statements)


def test_swarms_with_members_links_and_loads_take_three_queries(runtime: Runtime) -> None:
    data, statements = run(
        runtime,
        """{ swarms { nodes {
            members { agentId }
            links { source target }
            loadDistribution { total members { load } }
        } } }""",
    )
    swarms = data["swarms"]["nodes"]
    assert len(swarms) == SWARMS
    assert all(len(s["members"]) == MEMBERS for s in swarms)
    assert all(len(s["links"]) == MEMBERS - 1 for s in swarms)  # a star
    assert all(s["loadDistribution"]["total"] == MEMBERS for s in swarms)  # a task each
    assert statements == 3  # the swarms, their members, the members' agents


def test_tasks_with_their_agents_take_two_queries(runtime: Runtime) -> None:
    data, statements = run(runtime, "{ tasks { nodes { id agent { name } } } }")
    tasks = data["tasks"]["nodes"]
    assert len(tasks) == SWARMS * MEMBERS
    assert all(t["agent"]["name"].startswith("a") for t in tasks)
    assert statements == 2


def test_proposals_with_their_votes_take_two_queries(runtime: Runtime) -> None:
    data, statements = run(runtime, "{ proposals { nodes { votes { voterId approve } } } }")
    proposals = data["proposals"]["nodes"]
    assert [len(p["votes"]) for p in proposals] == [2] * SWARMS
    assert statements == 2


def test_the_path_between_two_members_follows_the_topology(runtime: Runtime) -> None:
    data, _ = run(runtime, "{ swarms(first: 1) { nodes { leaderId members { agentId } } } }")
    swarm = data["swarms"]["nodes"][0]
    leaves = [m["agentId"] for m in swarm["members"] if m["agentId"] != swarm["leaderId"]]
    query = f"""{{ swarms(first: 1) {{ nodes {{
        path(source: "{leaves[0]}", target: "{leaves[1]}")
    }} }} }}"""
    path, _ = run(runtime, query)
    assert path["swarms"]["nodes"][0]["path"] == [leaves[0], swarm["leaderId"], leaves[1]]
