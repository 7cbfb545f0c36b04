from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.errors import (
    AlreadyVoted,
    InvalidTransition,
    NotParticipant,
    ProposalClosed,
    ValidationError,
)
from domain.proposal import Proposal, ProposalStatus

NOW = datetime(2030, 1, 1, tzinfo=UTC)
DEADLINE = NOW + timedelta(minutes=5)
SWARM = UUID(int=7)


def propose(participants: list[str] | None = None, **kwargs: object) -> Proposal:
    people = participants or ["a", "b", "c", "d", "e"]
    kwargs.setdefault("protocol", "majority")
    return Proposal.create(
        swarm_id=SWARM,
        proposer_id=people[0],
        title="scale up",
        value={"max_agents": 12},
        participants=people,
        deadline=DEADLINE,
        **kwargs,  # type: ignore[arg-type]
    )


def names(proposal: Proposal) -> list[str]:
    return [type(e).__name__ for e in proposal.collect_events()]


def test_a_new_proposal_is_open_with_sorted_participants_and_unit_weights() -> None:
    p = propose(["c", "a", "b"])
    assert p.status == ProposalStatus.OPEN
    assert p.participants == ["a", "b", "c"]
    assert p.weights == {"a": 1.0, "b": 1.0, "c": 1.0}
    assert p.phase == "vote"
    assert p.votes == {"vote": {}}
    assert p.proposer_id == "c"
    assert names(p) == ["Created"]


def test_a_byzantine_proposal_starts_in_the_prepare_phase() -> None:
    assert propose(protocol="byzantine").phase == "prepare"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"protocol": "raft"}, "protocol"),
        ({"participants": []}, "participants"),
        ({"participants": ["a", "a"]}, "participants"),
        ({"participants": [f"p{i}" for i in range(1001)]}, "participants"),
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"value": None}, "value"),
        ({"value": {1, 2}}, "value"),
        ({"deadline": datetime(2030, 1, 1)}, "deadline"),
        ({"swarm_id": "swarm"}, "swarm_id"),
        ({"weights": {"a": 1.0}}, "weights"),
        ({"protocol": "weighted", "weights": {"a": 1.0}}, "weights"),
        ({"protocol": "weighted", "weights": {"a": -1.0, "b": 2.0}}, "weights"),
        ({"protocol": "weighted", "weights": {"a": 0.0, "b": 0.0}}, "weights"),
        ({"action": {"type": "launch_rockets"}}, "action"),
        ({"action": {"type": "scale_swarm", "max_agents": 0}}, "action"),
        ({"action": {"type": "scale_swarm"}}, "action"),
        ({"action": {"type": "change_strategy", "strategy": ""}}, "action"),
        (
            {"action": {"type": "reassign_task", "task_id": "x", "agent_id": "y"}},
            "action",
        ),
    ],
)
def test_creating_a_proposal_refuses_invalid_input(kwargs: dict, field: str) -> None:
    args = {
        "swarm_id": SWARM,
        "proposer_id": "a",
        "title": "t",
        "value": "v",
        "protocol": "majority",
        "participants": ["a", "b"],
        "deadline": DEADLINE,
        **kwargs,
    }
    with pytest.raises(ValidationError) as info:
        Proposal.create(**args)
    assert info.value.details["field"] == field


def test_an_unknown_protocol_is_refused_with_the_allowed_ones_listed() -> None:
    with pytest.raises(ValidationError, match="majority, supermajority") as info:
        propose(protocol="raft")
    assert "byzantine" in info.value.details["allowed"]


def test_the_proposer_must_be_a_participant() -> None:
    with pytest.raises(NotParticipant) as info:
        Proposal.create(SWARM, "z", "t", 1, "majority", ["a", "b"], DEADLINE)
    assert info.value.code == "NOT_PARTICIPANT"


@pytest.mark.parametrize(
    "action",
    [
        {"type": "scale_swarm", "max_agents": 12},
        {"type": "change_strategy", "strategy": "specialized"},
        {"type": "reassign_task", "task_id": str(uuid4()), "agent_id": str(uuid4())},
    ],
)
def test_a_proposal_may_carry_one_of_the_known_actions(action: dict) -> None:
    assert propose(action=action).action == action


def test_a_reassign_action_given_uuids_stores_them_as_strings() -> None:
    task, agent = uuid4(), uuid4()
    action = {"type": "reassign_task", "task_id": task, "agent_id": agent}
    assert propose(action=action).action == {
        "type": "reassign_task",
        "task_id": str(task),
        "agent_id": str(agent),
    }


def test_majority_is_accepted_at_the_third_approval_of_five() -> None:
    p = propose()
    p.cast_vote("a", True, NOW)
    p.cast_vote("b", False, NOW)
    p.cast_vote("c", True, NOW)
    assert p.status == "open"
    p.cast_vote("d", True, NOW)
    assert p.status == ProposalStatus.ACCEPTED
    assert p.outcome == "accepted"
    assert (p.approvals, p.rejections) == (3, 1)
    assert p.confidence == pytest.approx(0.6)
    assert not p.unanimous
    assert p.decided_at is not None
    assert names(p)[-1] == "Decided"


def test_majority_is_rejected_once_the_quorum_is_out_of_reach() -> None:
    p = propose()
    for voter in "abc":
        p.cast_vote(voter, False, NOW)
    assert p.status == "rejected"
    assert p.confidence == pytest.approx(0.6)


def test_a_unanimous_vote_is_recorded_as_unanimous() -> None:
    p = propose(["a", "b", "c"], protocol="unanimous")
    for voter in "abc":
        p.cast_vote(voter, True, NOW)
    assert p.status == "accepted"
    assert p.unanimous
    assert p.confidence == 1.0


def test_weighted_votes_count_by_weight() -> None:
    weights = {"a": 5.0, "b": 1.0, "c": 1.0}
    p = propose(["a", "b", "c"], protocol="weighted", weights=weights)
    p.cast_vote("b", True, NOW)
    p.cast_vote("c", True, NOW)
    assert p.status == "open"
    p.cast_vote("a", False, NOW)
    assert p.status == "rejected"
    assert p.reject_weight == 5.0
    assert p.confidence == pytest.approx(5 / 7)


def test_byzantine_runs_a_prepare_round_then_a_commit_round() -> None:
    p = propose(["a", "b", "c", "d"], protocol="byzantine")
    for voter in "abc":
        p.cast_vote(voter, True, NOW)
    assert p.phase == "commit"
    assert p.status == "open"
    assert names(p)[-1] == "PhaseAdvanced"
    p.cast_vote("a", True, NOW)
    with pytest.raises(AlreadyVoted, match="commit"):
        p.cast_vote("a", True, NOW)
    p.cast_vote("d", False, NOW)
    p.cast_vote("b", True, NOW)
    assert p.status == "open"
    p.cast_vote("c", True, NOW)
    assert p.status == "accepted"
    assert (p.approvals, p.rejections) == (3, 1)
    assert p.votes["prepare"] == {"a": True, "b": True, "c": True}


def test_byzantine_is_rejected_in_prepare_when_2f_plus_1_is_out_of_reach() -> None:
    p = propose(["a", "b", "c", "d"], protocol="byzantine")
    p.cast_vote("a", False, NOW)
    p.cast_vote("b", False, NOW)
    assert p.status == "rejected"
    assert p.phase == "prepare"
    assert p.rejections == 2


def test_a_participant_votes_only_once_per_phase() -> None:
    p = propose()
    p.cast_vote("a", True, NOW)
    with pytest.raises(AlreadyVoted) as info:
        p.cast_vote("a", False, NOW)
    assert info.value.code == "ALREADY_VOTED"
    assert info.value.details["phase"] == "vote"


def test_only_participants_vote() -> None:
    with pytest.raises(NotParticipant) as info:
        propose().cast_vote("z", True, NOW)
    assert info.value.details["voter_id"] == "z"


def test_no_vote_is_taken_after_the_decision() -> None:
    p = propose(["a"])
    p.cast_vote("a", True, NOW)
    with pytest.raises(ProposalClosed, match="accepted") as info:
        p.cast_vote("a", True, NOW)
    assert info.value.code == "PROPOSAL_CLOSED"


def test_no_vote_is_taken_at_or_after_the_deadline() -> None:
    p = propose()
    with pytest.raises(ProposalClosed, match="expired"):
        p.cast_vote("a", True, DEADLINE)
    assert p.votes == {"vote": {}}


def test_a_vote_must_be_a_boolean() -> None:
    with pytest.raises(ValidationError):
        propose().cast_vote("a", "yes", NOW)  # type: ignore[arg-type]


def test_an_open_proposal_expires_at_its_deadline_with_the_tally_so_far() -> None:
    p = propose()
    p.cast_vote("a", True, NOW)
    p.cast_vote("b", False, NOW)
    p.expire(DEADLINE)
    assert p.status == "expired"
    assert (p.approvals, p.rejections) == (1, 1)
    assert p.confidence == 0.0
    assert not p.unanimous
    assert names(p)[-1] == "Expired"
    with pytest.raises(ProposalClosed):
        p.cast_vote("c", True, NOW)


def test_a_proposal_cannot_expire_before_its_deadline() -> None:
    with pytest.raises(InvalidTransition, match="before its deadline") as info:
        propose().expire(NOW)
    assert info.value.code == "INVALID_TRANSITION"


def test_a_decided_proposal_cannot_expire() -> None:
    p = propose(["a"])
    p.cast_vote("a", False, NOW)
    with pytest.raises(ProposalClosed, match="rejected"):
        p.expire(DEADLINE)


def test_a_proposal_round_trips_through_the_event_store() -> None:
    p = propose(
        ["a", "b", "c", "d"],
        protocol="byzantine",
        action={"type": "change_strategy", "strategy": "specialized"},
    )
    for voter in "abcd":
        p.cast_vote(voter, True, NOW)
    for voter in "abc":
        p.cast_vote(voter, voter != "b", NOW)
    app = Application()
    app.save(p)
    copy = app.repository.get(p.id)
    assert copy.__dict__ == p.__dict__
    assert copy.status == "accepted"


def test_a_weighted_expired_proposal_round_trips_through_the_event_store() -> None:
    p = propose(["a", "b"], protocol="weighted", weights={"a": 1, "b": 1.5})
    p.cast_vote("a", True, NOW)
    p.expire(DEADLINE + timedelta(seconds=1))
    app = Application()
    app.save(p)
    assert app.repository.get(p.id).__dict__ == p.__dict__
