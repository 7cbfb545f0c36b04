from __future__ import annotations

import pytest

from domain.errors import CapacityExceeded, NotFound
from domain.topology import (
    Member,
    capability_match,
    children_map,
    links,
    load_distribution,
    optimal_path,
    place_hierarchical,
    placement_score,
    rebuild_hierarchy,
    rehome_children,
)


def m(parent: str | None, depth: int, position: int, *caps: str) -> Member:
    return Member(
        agent_type="coder",
        capabilities=list(caps) or ["x"],
        parent_id=parent,
        depth=depth,
        position=position,
    )


def flat(*ids: str) -> dict[str, Member]:
    return {i: m(None, 0, n) for n, i in enumerate(ids)}


TREE = {
    "r": m(None, 0, 0),
    "a": m("r", 1, 1),
    "b": m("r", 1, 2),
    "a1": m("a", 2, 3),
    "b1": m("b", 2, 4),
}


def test_capability_match_is_jaccard() -> None:
    assert capability_match(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    assert capability_match([], []) == 0.0
    assert capability_match(["a"], ["a"]) == 1.0


def test_placement_score_weighs_spare_capacity_and_match() -> None:
    assert placement_score(1.0, 0.0) == pytest.approx(0.4)
    assert placement_score(0.0, 1.0) == pytest.approx(0.6)


def test_the_first_member_of_a_hierarchy_is_the_root() -> None:
    assert place_hierarchical({}, ["x"], 3, 3) == (None, 0)


def test_a_newcomer_goes_under_the_best_scoring_parent() -> None:
    members = {"r": m(None, 0, 0, "x"), "a": m("r", 1, 1, "go")}
    assert place_hierarchical(members, ["go"], 3, 3) == ("a", 2)
    assert place_hierarchical(members, ["x"], 3, 3) == ("r", 1)


def test_placement_ties_go_to_the_earlier_then_shallower_member() -> None:
    members = {"r": m(None, 0, 0), "a": m("r", 1, 1), "b": m("r", 1, 2)}
    assert place_hierarchical(members, ["y"], 4, 3) == ("a", 2)
    chain = {"r": m(None, 0, 0), "a": m("r", 1, 1), "a1": m("a", 2, 2)}
    assert place_hierarchical(chain, ["y"], 3, 2) == ("r", 1)


def test_placement_respects_depth_and_branching_limits() -> None:
    members = {"r": m(None, 0, 0), "a": m("r", 1, 1)}
    assert place_hierarchical(members, ["x"], 2, 2) == ("r", 1)
    members["b"] = m("r", 1, 2)
    with pytest.raises(CapacityExceeded) as err:
        place_hierarchical(members, ["x"], 2, 2)
    assert err.value.details["max_depth"] == 2
    assert "depth" in err.value.message


def test_a_subtree_needs_room_for_its_height() -> None:
    members = {"r": m(None, 0, 0), "a": m("r", 1, 1)}
    assert place_hierarchical(members, ["x"], 3, 3, height=1) == ("r", 1)


def test_paths_are_one_hop_in_a_mesh() -> None:
    assert optimal_path("mesh", flat("a", "b", "c"), "a", "c") == ["a", "c"]


def test_a_path_to_oneself_is_just_oneself() -> None:
    assert optimal_path("ring", flat("a", "b"), "a", "a") == ["a"]


def test_a_ring_path_takes_the_shorter_direction() -> None:
    ring = flat("a", "b", "c", "d", "e")
    assert optimal_path("ring", ring, "a", "c") == ["a", "b", "c"]
    assert optimal_path("ring", ring, "a", "d") == ["a", "e", "d"]
    assert optimal_path("ring", flat("a", "b", "c", "d"), "a", "c") == [
        "a",
        "b",
        "c",
    ]


def test_a_star_path_goes_through_the_hub() -> None:
    star = flat("h", "a", "b")
    assert optimal_path("star", star, "a", "b", "h") == ["a", "h", "b"]
    assert optimal_path("star", star, "h", "b", "h") == ["h", "b"]
    assert optimal_path("star", star, "a", "b") == ["a", "h", "b"]


def test_a_hierarchical_path_climbs_to_the_common_ancestor() -> None:
    assert optimal_path("hierarchical", TREE, "a1", "b1") == ["a1", "a", "r", "b", "b1"]
    assert optimal_path("hierarchical", TREE, "a1", "r") == ["a1", "a", "r"]
    assert optimal_path("hierarchical", TREE, "r", "b1") == ["r", "b", "b1"]


def test_a_path_to_a_stranger_is_not_found() -> None:
    with pytest.raises(NotFound):
        optimal_path("mesh", flat("a"), "a", "zz")


def test_links_follow_the_topology() -> None:
    three = flat("a", "b", "c")
    assert links("mesh", three) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert links("ring", three) == [("a", "b"), ("b", "c"), ("c", "a")]
    assert links("ring", flat("a", "b")) == [("a", "b")]
    assert links("ring", flat("a")) == []
    assert links("star", three, "b") == [("b", "a"), ("b", "c")]
    assert links("star", {}) == []
    assert links("hierarchical", TREE) == [
        ("r", "a"),
        ("r", "b"),
        ("a", "a1"),
        ("b", "b1"),
    ]


def test_load_distribution_reports_imbalance() -> None:
    dist = load_distribution({"a": 1, "b": 3})
    assert dist["total"] == 4
    assert dist["mean"] == 2
    assert (dist["max"], dist["min"]) == (3, 1)
    assert dist["imbalance"] == pytest.approx(0.5)
    assert dist["per_member"] == {"a": 1, "b": 3}


def test_load_distribution_of_nothing_is_all_zero() -> None:
    dist = load_distribution({})
    assert dist["imbalance"] == 0.0
    assert dist["total"] == 0
    assert load_distribution({"a": 0})["imbalance"] == 0.0


def test_children_of_a_leaving_node_move_with_their_subtrees() -> None:
    moved = rehome_children(TREE, "a", 3, 3)
    assert moved == [{"agent_id": "a1", "parent_id": "r", "depth": 1}]


def test_when_the_root_leaves_its_first_child_takes_its_place() -> None:
    moved = {r["agent_id"]: r for r in rehome_children(TREE, "r", 3, 3)}
    assert moved["a"] == {"agent_id": "a", "parent_id": None, "depth": 0}
    assert moved["a1"]["depth"] == 1
    assert moved["b"]["parent_id"] == "a"


def test_a_subtree_that_fits_nowhere_whole_is_split() -> None:
    members = {
        "r": m(None, 0, 0),
        "a": m("r", 1, 1),
        "b": m("r", 1, 2),
        "a1": m("a", 2, 3),
        "a2": m("a", 2, 4),
        "b1": m("b", 2, 5),
        "b2": m("b", 2, 6),
    }
    moved = {r["agent_id"]: r for r in rehome_children(members, "r", 3, 2)}
    assert moved["b"] == {"agent_id": "b", "parent_id": "a1", "depth": 2}
    tree = {k: v for k, v in members.items() if k != "r"}
    for node, place in moved.items():
        tree[node] = m(place["parent_id"], place["depth"], members[node]["position"])
    assert all(len(c) <= 2 for c in children_map(tree).values())
    assert all(v["depth"] < 3 for v in tree.values())
    assert [k for k, v in tree.items() if v["parent_id"] is None] == ["a"]


def test_rebuild_puts_the_leader_at_the_root_and_compacts_positions() -> None:
    members = {
        "x": m(None, 0, 5, "a"),
        "y": m("x", 1, 9, "a", "b", "c"),
        "z": m("x", 1, 7, "a", "b"),
    }
    placements = {p["agent_id"]: p for p in rebuild_hierarchy(members, "x", 3, 1)}
    assert placements["x"] == {
        "agent_id": "x",
        "parent_id": None,
        "depth": 0,
        "position": 0,
    }
    assert placements["y"]["parent_id"] == "x"
    assert placements["z"]["parent_id"] == "y"
    assert placements["z"]["position"] == 1
