"""Property tests: proposals against a plain reference, and an acyclic task graph."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.dependencies import ensure_acyclic
from domain.errors import AlreadyVoted, DependencyCycle, NotParticipant, ProposalClosed
from domain.proposal import Proposal

NOW = datetime(2030, 1, 1, tzinfo=UTC)
PROTOCOLS = ["majority", "supermajority", "unanimous", "byzantine", "weighted"]


@st.composite
def elections(draw: st.DrawFn) -> tuple[str, list[str], list[int], list]:
    n = draw(st.integers(1, 12))
    protocol = draw(st.sampled_from(PROTOCOLS))
    people = [f"agent-{i}" for i in range(n)]
    weights = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
    if sum(weights) == 0:
        weights[0] = 1
    voters = st.sampled_from([*people, "outsider-1", "outsider-2"])
    votes = draw(st.lists(st.tuples(voters, st.booleans()), max_size=40))
    return protocol, people, weights, votes


def reference_quorum(protocol: str, n: int) -> int:
    if protocol == "majority":
        return n // 2 + 1
    if protocol == "supermajority":
        return math.ceil(2 * n / 3)
    if protocol == "unanimous":
        return n
    f = (n - 1) // 3
    return 2 * f + 1


@settings(max_examples=200, deadline=None)
@given(elections())
def test_a_proposal_decides_exactly_as_the_reference_rules_do(
    election: tuple[str, list[str], list[int], list],
) -> None:
    protocol, people, int_weights, votes = election
    weights = dict(zip(people, map(float, int_weights), strict=True))
    proposal = Proposal.create(
        swarm_id=UUID(int=1),
        proposer_id=people[0],
        title="t",
        value="v",
        protocol=protocol,
        participants=people,
        deadline=NOW + timedelta(hours=1),
        weights=weights if protocol == "weighted" else None,
    )
    n = len(people)
    phase = "prepare" if protocol == "byzantine" else "vote"
    ballots: dict[str, dict[str, bool]] = {phase: {}}
    outcome = None
    for voter, approve in votes:
        if outcome is not None:
            with pytest.raises(ProposalClosed):
                proposal.cast_vote(voter, approve, NOW)
            continue
        if voter not in people:
            with pytest.raises(NotParticipant):
                proposal.cast_vote(voter, approve, NOW)
            continue
        if voter in ballots[phase]:
            with pytest.raises(AlreadyVoted):
                proposal.cast_vote(voter, approve, NOW)
            continue
        proposal.cast_vote(voter, approve, NOW)
        ballots[phase][voter] = approve
        yes = [v for v, ok in ballots[phase].items() if ok]
        no = [v for v, ok in ballots[phase].items() if not ok]
        decided = None
        if protocol == "weighted":
            total = sum(weights.values())
            if sum(weights[v] for v in yes) > total / 2:
                decided = "accepted"
            elif sum(weights[v] for v in no) >= total / 2:
                decided = "rejected"
        else:
            q = reference_quorum(protocol, n)
            if len(yes) >= q:
                decided = "accepted"
            elif len(yes) + (n - len(yes) - len(no)) < q:
                decided = "rejected"
        if decided == "accepted" and phase == "prepare":
            phase = "commit"
            ballots[phase] = {}
        elif decided is not None:
            outcome = decided
            assert proposal.approvals == len(yes)
            assert proposal.rejections == len(no)
        assert proposal.phase == phase
    assert proposal.outcome == outcome
    assert proposal.status == (outcome or "open")
    assert proposal.votes == ballots
    cast = [
        (e.phase, e.voter_id)  # type: ignore[attr-defined]
        for e in proposal.collect_events()
        if type(e).__name__ == "VoteCast"
    ]
    assert len(cast) == len(set(cast))
    assert {voter for _, voter in cast} <= set(people)


def reachable(graph: dict[UUID, list[UUID]], start: UUID) -> set[UUID]:
    seen: set[UUID] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def is_acyclic(graph: dict[UUID, list[UUID]]) -> bool:
    nodes = set(graph) | {d for deps in graph.values() for d in deps}
    indegree = dict.fromkeys(nodes, 0)
    for deps in graph.values():
        for d in deps:
            indegree[d] += 1
    ready = [v for v in nodes if indegree[v] == 0]
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for d in graph.get(node, []):
            indegree[d] -= 1
            if indegree[d] == 0:
                ready.append(d)
    return removed == len(nodes)


steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.lists(st.integers(0, 30), max_size=4),
            st.lists(st.integers(1000, 1010), max_size=2),
        ),
        st.tuples(st.just("link"), st.integers(0, 30), st.integers(0, 30)),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_the_dependency_graph_never_gains_a_cycle(moves: list[tuple]) -> None:
    graph: dict[UUID, list[UUID]] = {}
    tasks: list[UUID] = []
    for move in moves:
        if move[0] == "add":
            _, picks, strangers = move
            node = UUID(int=len(tasks) + 1)
            deps = {tasks[i % len(tasks)] for i in picks if tasks}
            deps |= {UUID(int=s) for s in strangers}
            ensure_acyclic(graph, node, deps)
            graph[node] = sorted(deps)
            tasks.append(node)
        elif tasks:
            _, i, j = move
            node, dep = tasks[i % len(tasks)], tasks[j % len(tasks)]
            closes = node == dep or node in reachable(graph, dep)
            try:
                ensure_acyclic(graph, node, [dep])
            except DependencyCycle as error:
                assert closes
                cycle = [UUID(s) for s in error.details["cycle"]]
                assert cycle[0] == cycle[-1] == node
                assert cycle[1] == dep
            else:
                assert not closes
                graph[node] = sorted({*graph[node], dep})
        assert is_acyclic(graph)
    for node in tasks:
        for below in reachable(graph, node):
            with pytest.raises(DependencyCycle):
                ensure_acyclic(graph, below, [node])
