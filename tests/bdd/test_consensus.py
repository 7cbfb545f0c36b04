"""Steps of features/consensus.feature."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from application.commands import CastVote, CloseExpiredProposal, CreateProposal
from tests.bdd.conftest import World, quoted

scenarios("consensus.feature")

PROPOSE = (
    r'"(?P<proposer>[^"]+)" propos(?:es|ed) "(?P<title>[^"]+)" to "(?P<swarm>[^"]+)" '
    r"by (?P<protocol>\w+) vote"
    r"(?:, open for (?P<ttl>\d+) seconds)?"
    r"(?:, to scale it to (?P<scale>\d+) agents)?"
)


def _proposal(
    proposer: str, title: str, swarm: str, protocol: str, ttl: str | None, scale: str | None
) -> dict[str, Any]:
    return {
        "title": title,
        "protocol": protocol,
        "proposer": proposer,
        "swarm": swarm,
        "ttl_seconds": float(ttl or 3600),
        "action": {"type": "scale_swarm", "max_agents": int(scale)} if scale else None,
    }


def _propose(world: World, spec: dict[str, Any], *, must_succeed: bool) -> None:
    run = world.do if must_succeed else world.attempt
    result = run(
        CreateProposal,
        swarm_id=world.id(spec["swarm"]),
        proposer_id=world.id(spec["proposer"]),
        title=spec["title"],
        value={"title": spec["title"]},
        protocol=spec["protocol"],
        ttl_seconds=spec["ttl_seconds"],
        action=spec["action"],
    )
    if result is not None:
        world.ids[spec["title"]] = result.aggregate_id
        world.proposal_name = spec["title"]


def _ballots(votes: str) -> list[tuple[str, bool]]:
    if votes.strip() == "nobody":
        return []
    pairs = [vote.split() for vote in votes.split(",")]
    return [(voter, choice == "yes") for voter, choice in pairs]


def _vote(world: World, voter: str, approve: bool, *, must_succeed: bool) -> bool:
    run = world.do if must_succeed else world.attempt
    result = run(
        CastVote,
        proposal_id=world.id(world.proposal_name),
        voter_id=world.id(voter),
        approve=approve,
    )
    return result is not None


@given(parsers.re(PROPOSE))
def proposed(
    world: World,
    proposer: str,
    title: str,
    swarm: str,
    protocol: str,
    ttl: str | None,
    scale: str | None,
) -> None:
    _propose(world, _proposal(proposer, title, swarm, protocol, ttl, scale), must_succeed=True)


@when(parsers.re(PROPOSE))
def proposes(
    world: World,
    proposer: str,
    title: str,
    swarm: str,
    protocol: str,
    ttl: str | None,
    scale: str | None,
) -> None:
    _propose(world, _proposal(proposer, title, swarm, protocol, ttl, scale), must_succeed=False)


@given(parsers.re(r"the members voted: (?P<votes>.+)"))
def members_voted(world: World, votes: str) -> None:
    for voter, approve in _ballots(votes):
        _vote(world, voter, approve, must_succeed=True)


@when(parsers.re(r"the members vote(?: in the (?P<phase>prepare|commit) round)?: (?P<votes>.+)"))
def members_vote(world: World, phase: str | None, votes: str) -> None:
    ballots = _ballots(votes)
    if phase is not None and ballots:
        assert world.proposal(world.proposal_name).phase == phase
    for voter, approve in ballots:
        if not _vote(world, voter, approve, must_succeed=False):
            return


@when(parsers.re(r'"(?P<voter>[^"]+)" votes (?P<choice>yes|no)(?: again)?'))
def votes(world: World, voter: str, choice: str) -> None:
    _vote(world, voter, choice == "yes", must_succeed=False)


@when(parsers.re(r'I close "(?P<title>[^"]+)" as expired'))
def close_expired(world: World, title: str) -> None:
    world.attempt(CloseExpiredProposal, proposal_id=world.id(title))


@then(parsers.re(r"it is in the (?P<phase>prepare|commit) round"))
def in_round(world: World, phase: str) -> None:
    assert world.proposal(world.proposal_name).phase == phase


@then(parsers.re(r"the tally shows (?P<approvals>\d+) for and (?P<rejections>\d+) against"))
def tally(world: World, approvals: str, rejections: str) -> None:
    proposal = world.proposal(world.proposal_name)
    assert (proposal.approvals, proposal.rejections) == (int(approvals), int(rejections))


@then(
    parsers.re(
        r"the confidence is (?P<confidence>[\d.]+) and the vote was "
        r"(?P<unanimity>unanimous|not unanimous)"
    )
)
def confidence(world: World, confidence: str, unanimity: str) -> None:
    proposal = world.proposal(world.proposal_name)
    assert round(proposal.confidence, 2) == float(confidence)
    assert proposal.unanimous is (unanimity == "unanimous")


@then(parsers.re(r"the expertise of (?P<names>\".*\") is about (?P<value>[\d.]+)"))
def expertise(world: World, names: str, value: str) -> None:
    for name in quoted(names):
        assert world.agent(name).expertise(world.clock()) == pytest.approx(float(value))
