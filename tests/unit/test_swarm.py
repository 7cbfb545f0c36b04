from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.errors import (
    CapacityExceeded,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationError,
)
from domain.swarm import Strategy, Swarm, SwarmStatus, Topology


def swarm_of(topology: str, *ids: str, **options: int) -> Swarm:
    swarm = Swarm.init("s", topology, **options)  # type: ignore[arg-type]
    for agent_id in ids:
        swarm.join(agent_id, "coder", ["python"])
    return swarm


def tree_of(*members: tuple[str, str], **options: int) -> Swarm:
    swarm = Swarm.init("s", "hierarchical", **options)  # type: ignore[arg-type]
    for agent_id, capability in members:
        swarm.join(agent_id, "coder", [capability])
    return swarm


TREE = (("r", "plan"), ("a", "python"), ("b", "plan"), ("a1", "python"))


def test_init_sets_defaults_and_starts_active_and_empty() -> None:
    swarm = Swarm.init(" alpha ", Topology.MESH)
    assert swarm.name == "alpha"
    assert swarm.topology == "mesh"
    assert swarm.strategy == Strategy.BALANCED
    assert (swarm.max_agents, swarm.max_depth, swarm.branching_factor) == (10, 3, 3)
    assert swarm.status == SwarmStatus.ACTIVE
    assert swarm.leader_id is None
    assert swarm.members == {}
    assert swarm.next_position == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"topology": "blob"}, "topology"),
        ({"strategy": "random"}, "strategy"),
        ({"max_agents": 0}, "max_agents"),
        ({"max_agents": 1001}, "max_agents"),
        ({"max_depth": 0}, "max_depth"),
        ({"max_depth": 11}, "max_depth"),
        ({"branching_factor": 0}, "branching_factor"),
        ({"branching_factor": 51}, "branching_factor"),
    ],
)
def test_init_refuses_invalid_settings(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"name": "s", "topology": "mesh", **kwargs}
    with pytest.raises(ValidationError) as err:
        Swarm.init(**args)  # type: ignore[arg-type]
    assert err.value.details["field"] == field


def test_an_unknown_topology_error_lists_the_allowed_ones() -> None:
    with pytest.raises(ValidationError) as err:
        Swarm.init("s", "blob")
    assert err.value.details["allowed"] == ["hierarchical", "mesh", "ring", "star"]


def test_the_first_member_becomes_the_leader() -> None:
    swarm = swarm_of("star", "hub", "spoke")
    assert swarm.leader_id == "hub"
    names = [type(e).__name__ for e in swarm.collect_events()]
    assert names == ["Initialized", "MemberJoined", "LeaderElected", "MemberJoined"]


def test_join_stores_uuids_as_strings_with_normalized_capabilities() -> None:
    swarm = Swarm.init("s", "mesh")
    agent = uuid4()
    swarm.join(agent, "coder", ["Go", "go", "Rust"])
    assert swarm.members[str(agent)] == {
        "agent_type": "coder",
        "capabilities": ["go", "rust"],
        "parent_id": None,
        "depth": 0,
        "position": 0,
    }
    assert swarm.next_position == 1


def test_joining_twice_is_not_allowed() -> None:
    swarm = swarm_of("mesh", "a")
    with pytest.raises(NotAllowed) as err:
        swarm.join("a", "coder", ["x"])
    assert "already a member" in err.value.message


def test_a_full_swarm_refuses_members() -> None:
    swarm = swarm_of("mesh", "a", max_agents=1)
    with pytest.raises(CapacityExceeded) as err:
        swarm.join("b", "coder", ["x"])
    assert err.value.details == {"members": 1, "max_agents": 1}


def test_join_refuses_an_unknown_agent_type_or_bad_capabilities() -> None:
    swarm = Swarm.init("s", "mesh")
    with pytest.raises(ValidationError):
        swarm.join("a", "wizard", ["x"])
    with pytest.raises(ValidationError):
        swarm.join("a", "coder", [])
    with pytest.raises(ValidationError):
        swarm.join("", "coder", ["x"])


def test_a_hierarchical_join_is_placed_by_score() -> None:
    swarm = tree_of(("r", "plan"), ("a", "python"), ("b", "plan"), branching_factor=2)
    assert swarm.leader_id == "r"
    assert swarm.children_of("r") == ["a", "b"]
    swarm.join("c", "coder", ["python"])
    assert swarm.members["c"]["parent_id"] == "a"
    assert swarm.members["c"]["depth"] == 2


def test_spare_capacity_draws_a_newcomer_without_matches_to_a_leaf() -> None:
    swarm = tree_of(("r", "plan"), ("a", "python"), ("b", "rust"), branching_factor=2)
    assert swarm.members["b"]["parent_id"] == "a"


def test_a_hierarchy_without_a_free_slot_refuses_members() -> None:
    swarm = swarm_of("hierarchical", "r", "a", max_depth=2, branching_factor=1)
    with pytest.raises(CapacityExceeded):
        swarm.join("b", "coder", ["x"])


def test_leave_removes_the_member() -> None:
    swarm = swarm_of("mesh", "a", "b")
    swarm.leave("b", "bye")
    assert list(swarm.members) == ["a"]
    assert swarm.leader_id == "a"


def test_leaving_a_swarm_one_is_not_in_is_not_found() -> None:
    with pytest.raises(NotFound) as err:
        swarm_of("mesh", "a").leave("zz")
    assert err.value.code == "NOT_FOUND"


def test_when_the_leader_leaves_the_earliest_remaining_member_leads() -> None:
    swarm = swarm_of("ring", "a", "b", "c")
    swarm.leave("a")
    assert swarm.leader_id == "b"
    assert isinstance(swarm.collect_events()[-1], Swarm.LeaderElected)


def test_when_the_last_member_leaves_there_is_no_leader() -> None:
    swarm = swarm_of("mesh", "a")
    swarm.leave("a")
    assert swarm.leader_id is None
    swarm.join("b", "coder", ["x"])
    assert swarm.leader_id == "b"


def test_children_of_a_leaving_hierarchical_node_are_replaced() -> None:
    swarm = tree_of(*TREE, branching_factor=2)
    assert swarm.members["a1"]["parent_id"] == "a"
    swarm.leave("a")
    left = swarm.collect_events()[-1]
    assert isinstance(left, Swarm.MemberLeft)
    assert left.replacements == [{"agent_id": "a1", "parent_id": "b", "depth": 2}]
    assert swarm.children_of("b") == ["a1"]
    assert swarm.leader_id == "r"


def test_when_the_hierarchical_root_leaves_the_new_root_leads() -> None:
    swarm = tree_of(*TREE, branching_factor=2)
    swarm.leave("r")
    assert swarm.leader_id == "a"
    assert swarm.members["a"]["parent_id"] is None
    assert swarm.members["a"]["depth"] == 0
    assert all(v["parent_id"] in swarm.members for k, v in swarm.members.items() if k != "a")


def test_scale_changes_max_agents() -> None:
    swarm = swarm_of("mesh", "a")
    swarm.scale(5)
    event = swarm.collect_events()[-1]
    assert isinstance(event, Swarm.Scaled)
    assert (event.from_max, event.to_max) == (10, 5)
    version = swarm.version
    swarm.scale(5)
    assert swarm.version == version


def test_scale_refuses_going_below_the_member_count() -> None:
    swarm = swarm_of("mesh", "a", "b")
    with pytest.raises(CapacityExceeded) as err:
        swarm.scale(1)
    assert "2 members" in err.value.message


@pytest.mark.parametrize("value", [0, 1001, "5"])
def test_scale_refuses_values_outside_one_to_a_thousand(value: object) -> None:
    with pytest.raises(ValidationError):
        swarm_of("mesh").scale(value)  # type: ignore[arg-type]


def test_optimize_compacts_positions_in_flat_topologies() -> None:
    swarm = swarm_of("ring", "a", "b", "c")
    swarm.leave("b")
    swarm.optimize()
    assert [swarm.members[m]["position"] for m in ("a", "c")] == [0, 1]
    assert len(swarm.collect_events()[-1].placements) == 2  # type: ignore[attr-defined]


def test_optimize_rebuilds_the_hierarchy_with_the_leader_at_the_root() -> None:
    swarm = Swarm.init("s", "hierarchical", max_depth=3, branching_factor=2)
    swarm.join("r", "coordinator", ["plan"])
    swarm.join("a", "coder", ["python"])
    swarm.join("b", "coder", ["python", "rust", "go"])
    swarm.optimize()
    assert swarm.members["r"]["parent_id"] is None
    assert swarm.leader_id == "r"
    assert swarm.children_of("r") == ["b"]
    assert swarm.children_of("b") == ["a"]


def test_a_shut_down_swarm_refuses_join_scale_optimize_and_shutdown() -> None:
    swarm = swarm_of("mesh", "a")
    swarm.shut_down("done")
    assert swarm.status == SwarmStatus.SHUT_DOWN
    for action in (
        lambda: swarm.join("b", "coder", ["x"]),
        lambda: swarm.scale(3),
        swarm.optimize,
        swarm.shut_down,
    ):
        with pytest.raises(InvalidTransition) as err:
            action()
        assert err.value.details["current"] == "shut_down"


def test_members_may_leave_a_shut_down_swarm() -> None:
    swarm = swarm_of("mesh", "a")
    swarm.shut_down()
    swarm.leave("a")
    assert swarm.members == {}


def test_queries_use_the_topology() -> None:
    star = swarm_of("star", "h", "a", "b")
    assert star.optimal_path("a", "b") == ["a", "h", "b"]
    assert star.links() == [("h", "a"), ("h", "b")]
    tree = tree_of(*TREE, branching_factor=2)
    assert tree.optimal_path("a1", "b") == ["a1", "a", "r", "b"]
    assert tree.links() == [("r", "a"), ("r", "b"), ("a", "a1")]
    with pytest.raises(NotFound):
        tree.children_of("zz")


def test_load_distribution_counts_only_members_and_missing_ones_as_zero() -> None:
    swarm = swarm_of("mesh", "a", "b")
    dist = swarm.load_distribution({"a": 2, "stranger": 9})
    assert dist["per_member"] == {"a": 2, "b": 0}
    assert dist["total"] == 2


def test_a_swarm_round_trips_through_its_stored_events() -> None:
    swarm = tree_of(*TREE, ("b1", "plan"), branching_factor=2)
    swarm.leave("a")
    swarm.scale(20)
    swarm.optimize()
    swarm.leave("r")
    app = Application()
    app.save(swarm)
    assert app.repository.get(swarm.id).__dict__ == swarm.__dict__
    swarm.shut_down("end")
    app.save(swarm)
    assert app.repository.get(swarm.id).__dict__ == swarm.__dict__
