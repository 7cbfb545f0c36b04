from __future__ import annotations

from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.agent import TRANSITIONS, Agent, AgentState
from domain.errors import DomainError
from domain.swarm import Swarm
from domain.topology import children_map

TASK_IDS = [UUID(int=i) for i in range(1, 5)]
OUTCOMES = ["completed", "failed", "cancelled", "timed_out", "requeued"]

agent_calls = st.one_of(
    st.tuples(st.just("transition"), st.sampled_from(list(AgentState))),
    st.tuples(st.just("pause"), st.none()),
    st.tuples(st.just("resume"), st.none()),
    st.tuples(st.just("terminate"), st.none()),
    st.tuples(st.just("take_task"), st.sampled_from(TASK_IDS)),
    st.tuples(
        st.just("release_task"),
        st.tuples(st.sampled_from(TASK_IDS), st.sampled_from(OUTCOMES)),
    ),
)


def call(agent: Agent, name: str, arg: object) -> None:
    if name == "transition":
        agent.transition(arg)  # type: ignore[arg-type]
    elif name == "take_task":
        agent.take_task(arg)  # type: ignore[arg-type]
    elif name == "release_task":
        agent.release_task(*arg)  # type: ignore[misc]
    else:
        getattr(agent, name)()


def edges(events: list[object]) -> list[tuple[str, str]]:
    out = []
    for e in events:
        if isinstance(e, Agent.Transitioned):
            out.append((e.from_state, e.to_state))
        elif isinstance(e, Agent.Terminated):
            out.append((e.from_state, AgentState.TERMINATED.value))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(agent_calls, max_size=40), st.integers(1, 4))
def test_agents_only_ever_move_along_edges_of_the_table(
    calls: list[tuple[str, object]], max_load: int
) -> None:
    agent = Agent.spawn("p", "tester", ["qa"], max_load=max_load)
    agent.collect_events()
    for name, arg in calls:
        before = (agent.version, agent.state, list(agent.current_tasks))
        try:
            call(agent, name, arg)
        except DomainError:
            assert (agent.version, agent.state, agent.current_tasks) == (
                before[0],
                before[1],
                before[2],
            )
        assert agent.state in {s.value for s in AgentState}
        assert len(agent.current_tasks) <= agent.max_load
        assert len(set(agent.current_tasks)) == len(agent.current_tasks)
        if agent.current_tasks:
            assert agent.state != AgentState.TERMINATED
        for start, end in edges(agent.collect_events()):
            assert AgentState(end) in TRANSITIONS[AgentState(start)]


swarm_calls = st.lists(
    st.one_of(
        st.tuples(
            st.just("join"),
            st.integers(0, 30),
            st.sets(st.sampled_from("abcd"), min_size=1),
        ),
        st.tuples(st.just("leave"), st.integers(0, 30), st.just(set())),
        st.tuples(st.just("optimize"), st.just(0), st.just(set())),
    ),
    max_size=60,
)


def assert_tree(swarm: Swarm) -> None:
    members = swarm.members
    assert len(members) <= swarm.max_agents
    kids = children_map(members)
    roots = [m for m, v in members.items() if v["parent_id"] is None]
    if not members:
        assert swarm.leader_id is None
        return
    assert roots == [swarm.leader_id]
    for agent_id, member in members.items():
        assert member["depth"] < swarm.max_depth
        assert len(kids[agent_id]) <= swarm.branching_factor
        parent = member["parent_id"]
        if parent is not None:
            assert parent in members
            assert member["depth"] == members[parent]["depth"] + 1
    seen, frontier = set(), [swarm.leader_id]
    while frontier:
        node = frontier.pop()
        seen.add(node)
        frontier.extend(kids[node])
    assert seen == set(members)


@settings(max_examples=200, deadline=None)
@given(swarm_calls, st.integers(1, 4), st.integers(1, 4), st.integers(1, 30))
def test_hierarchies_stay_well_formed_trees(
    calls: list[tuple[str, int, set[str]]],
    max_depth: int,
    branching_factor: int,
    max_agents: int,
) -> None:
    swarm = Swarm.init(
        "p",
        "hierarchical",
        max_agents=max_agents,
        max_depth=max_depth,
        branching_factor=branching_factor,
    )
    for name, n, caps in calls:
        version = swarm.version
        try:
            if name == "join":
                swarm.join(f"agent-{n}", "coder", sorted(caps))
            elif name == "leave":
                swarm.leave(f"agent-{n}")
            else:
                swarm.optimize()
        except DomainError:
            assert swarm.version == version
        assert_tree(swarm)
