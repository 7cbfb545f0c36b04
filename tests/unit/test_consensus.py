from __future__ import annotations

import pytest

from domain.consensus import (
    ConsensusProtocol,
    Outcome,
    byzantine_quorum,
    decide,
    fault_tolerance,
    majority_quorum,
    quorum,
    supermajority_quorum,
    tally,
)

PEOPLE = ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("n", range(1, 40))
def test_byzantine_fault_tolerance_always_satisfies_n_at_least_3f_plus_1(
    n: int,
) -> None:
    f = fault_tolerance(n)
    assert n >= 3 * f + 1
    assert n < 3 * (f + 1) + 1
    assert byzantine_quorum(n) == 2 * f + 1


@pytest.mark.parametrize(
    ("n", "majority", "supermajority", "byzantine"),
    [(1, 1, 1, 1), (2, 2, 2, 1), (3, 2, 2, 1), (4, 3, 3, 3), (7, 4, 5, 5)],
)
def test_quorums_follow_their_definitions(
    n: int, majority: int, supermajority: int, byzantine: int
) -> None:
    assert majority_quorum(n) == majority
    assert supermajority_quorum(n) == supermajority
    assert byzantine_quorum(n) == byzantine
    assert quorum("unanimous", n) == n


def test_the_weighted_protocol_has_no_count_quorum() -> None:
    with pytest.raises(ValueError, match="weighted"):
        quorum(ConsensusProtocol.WEIGHTED, 3)


def test_majority_accepts_as_soon_as_the_quorum_approves() -> None:
    assert decide("majority", PEOPLE, None, ["a", "b"], []) is None
    assert decide("majority", PEOPLE, None, ["a", "b", "c"], []) is Outcome.ACCEPTED


def test_majority_rejects_as_soon_as_the_quorum_is_out_of_reach() -> None:
    assert decide("majority", PEOPLE, None, [], ["a", "b"]) is None
    assert decide("majority", PEOPLE, None, [], ["a", "b", "c"]) is Outcome.REJECTED


def test_unanimous_rejects_at_the_first_rejection() -> None:
    assert decide("unanimous", PEOPLE, None, ["a"], ["b"]) is Outcome.REJECTED
    assert decide("unanimous", PEOPLE, None, PEOPLE, []) is Outcome.ACCEPTED


def test_weighted_accepts_above_half_and_rejects_at_half_of_the_total() -> None:
    weights = {"a": 2.0, "b": 1.0, "c": 1.0}
    people = list(weights)
    assert decide("weighted", people, weights, ["a"], []) is None
    assert decide("weighted", people, weights, ["a", "b"], []) is Outcome.ACCEPTED
    assert decide("weighted", people, weights, [], ["a"]) is Outcome.REJECTED
    assert decide("weighted", people, weights, [], ["b"]) is None


def test_unweighted_protocols_ignore_weights() -> None:
    weights = {"a": 10.0, "b": 1.0, "c": 1.0}
    assert decide("majority", list(weights), weights, ["a"], []) is None


def test_confidence_is_the_agreeing_weight_over_the_total_weight() -> None:
    t = tally("majority", PEOPLE, None, ["a", "b", "c"], ["d"], "accepted")
    assert (t.approvals, t.rejections) == (3, 1)
    assert (t.approve_weight, t.reject_weight) == (3.0, 1.0)
    assert t.confidence == pytest.approx(0.6)
    assert not t.unanimous


def test_a_round_is_unanimous_when_everyone_voted_the_same_way() -> None:
    assert tally("majority", PEOPLE, None, PEOPLE, [], "accepted").unanimous
    assert tally("majority", PEOPLE, None, [], PEOPLE, "rejected").unanimous
    assert not tally("majority", PEOPLE, None, PEOPLE[:4], [], "accepted").unanimous


def test_weighted_confidence_uses_the_weights() -> None:
    weights = {"a": 3.0, "b": 1.0}
    t = tally("weighted", ["a", "b"], weights, ["a"], [], "accepted")
    assert t.confidence == pytest.approx(0.75)
    assert t.as_dict()["approve_weight"] == 3.0


def test_without_an_outcome_confidence_is_zero() -> None:
    assert tally("majority", PEOPLE, None, ["a"], [], None).confidence == 0.0
