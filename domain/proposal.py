"""The Proposal aggregate: a value put to the vote of a swarm's members.

The participants are fixed at creation. Each participant votes at most once per
phase and no vote is taken once the proposal is decided or expired. The
decision rules live in :mod:`domain.consensus`; Byzantine proposals run a
prepare round then a commit round, each needing 2f + 1 approvals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain import consensus
from domain.base import SwarmlogAggregate
from domain.consensus import ConsensusProtocol, Outcome
from domain.errors import (
    AlreadyVoted,
    InvalidTransition,
    NotParticipant,
    ProposalClosed,
    ValidationError,
)
from domain.proposal_rules import (
    check_action,
    check_deadline,
    check_participants,
    check_value,
    check_weights,
)
from domain.validation import parse_enum, text, validate_uuid


class ProposalStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Proposal(SwarmlogAggregate):
    """A proposal. ``votes`` maps phase -> voter -> approve; a voter appears at
    most once per phase and only participants appear. Once the status leaves
    ``open`` nothing changes again."""

    class Created(SwarmlogAggregate.Created):
        swarm_id: UUID
        proposer_id: str
        title: str
        value: Any
        action: dict[str, Any] | None
        protocol: str
        participants: list[str]
        weights: dict[str, float]
        deadline: datetime
        phase: str

    class VoteCast(SwarmlogAggregate.Event):
        voter_id: str
        approve: bool
        phase: str

    class PhaseAdvanced(SwarmlogAggregate.Event):
        phase: str

    class Decided(SwarmlogAggregate.Event):
        outcome: str
        approvals: int
        rejections: int
        approve_weight: float
        reject_weight: float
        confidence: float
        unanimous: bool

    class Expired(SwarmlogAggregate.Event):
        approvals: int
        rejections: int
        approve_weight: float
        reject_weight: float
        confidence: float
        unanimous: bool

    @classmethod
    def create(
        cls,
        swarm_id: UUID,
        proposer_id: str,
        title: str,
        value: Any,
        protocol: str,
        participants: Iterable[str],
        deadline: datetime,
        weights: Mapping[str, float] | None = None,
        action: dict[str, Any] | None = None,
    ) -> Proposal:
        """Validate and open a proposal. ``deadline`` must be timezone-aware."""
        kind = parse_enum(ConsensusProtocol, protocol, "protocol").value
        validate_uuid(swarm_id, "swarm_id")
        people = check_participants(participants, proposer_id)
        text(title, "title", 200)
        check_value(value)
        check_deadline(deadline)
        checked_weights = check_weights(kind, people, weights)
        return cls(
            swarm_id=swarm_id,
            proposer_id=proposer_id,
            title=title,
            value=value,
            action=check_action(action),
            protocol=kind,
            participants=people,
            weights=checked_weights,
            deadline=deadline,
            phase="prepare" if kind == ConsensusProtocol.BYZANTINE else "vote",
        )

    @event(Created)
    def __init__(
        self,
        swarm_id: UUID,
        proposer_id: str,
        title: str,
        value: Any,
        action: dict[str, Any] | None,
        protocol: str,
        participants: list[str],
        weights: dict[str, float],
        deadline: datetime,
        phase: str,
    ) -> None:
        self.swarm_id = swarm_id
        self.proposer_id = proposer_id
        self.title = title
        self.value = value
        self.action = action
        self.protocol = protocol
        self.participants = participants
        self.weights = weights
        self.deadline = deadline
        self.phase = phase
        self.votes: dict[str, dict[str, bool]] = {phase: {}}
        self.status = ProposalStatus.OPEN.value
        self.outcome: str | None = None
        self.approvals = 0
        self.rejections = 0
        self.approve_weight = 0.0
        self.reject_weight = 0.0
        self.confidence = 0.0
        self.unanimous = False
        self.decided_at: datetime | None = None

    def _round(self) -> tuple[list[str], list[str]]:
        ballots = self.votes.get(self.phase, {})
        return (
            [v for v, ok in ballots.items() if ok],
            [v for v, ok in ballots.items() if not ok],
        )

    def _tally(self, outcome: str | None) -> dict[str, Any]:
        yes, no = self._round()
        return consensus.tally(
            self.protocol, self.participants, self.weights, yes, no, outcome
        ).as_dict()

    def deciding_votes(self) -> dict[str, bool]:
        """The votes of the round that decided (or is deciding): voter -> approve."""
        return dict(self.votes.get(self.phase, {}))

    def cast_vote(self, voter_id: str, approve: bool, now: datetime) -> None:
        """Record a vote, then decide (or advance the Byzantine phase) if due."""
        if self.status != ProposalStatus.OPEN:
            raise ProposalClosed(
                f"the proposal is {self.status}; votes are taken only while open",
                proposal_id=str(self.id),
                status=self.status,
            )
        if now >= self.deadline:
            raise ProposalClosed(
                f"the proposal has expired: its deadline {self.deadline.isoformat()} has passed",
                proposal_id=str(self.id),
                status=self.status,
                deadline=self.deadline.isoformat(),
            )
        if voter_id not in self.weights:
            raise NotParticipant(
                f"{voter_id!r} is not a participant of this proposal",
                proposal_id=str(self.id),
                voter_id=voter_id,
            )
        if voter_id in self.votes.get(self.phase, {}):
            raise AlreadyVoted(
                f"{voter_id!r} has already voted in the {self.phase} phase",
                proposal_id=str(self.id),
                voter_id=voter_id,
                phase=self.phase,
            )
        if not isinstance(approve, bool):
            raise ValidationError("approve must be true or false", field="approve")
        self._cast_vote(voter_id=voter_id, approve=approve, phase=self.phase)
        yes, no = self._round()
        outcome = consensus.decide(self.protocol, self.participants, self.weights, yes, no)
        if outcome is Outcome.ACCEPTED and self.phase == "prepare":
            self._advance(phase="commit")
        elif outcome is not None:
            self._decide(outcome=outcome.value, **self._tally(outcome))

    def expire(self, now: datetime) -> None:
        """Close an open proposal whose deadline has passed, with its tally."""
        if self.status != ProposalStatus.OPEN:
            raise ProposalClosed(
                f"cannot expire a proposal that is {self.status}; only open ones",
                proposal_id=str(self.id),
                status=self.status,
            )
        if now < self.deadline:
            raise InvalidTransition(
                f"cannot expire the proposal before its deadline {self.deadline.isoformat()}",
                proposal_id=str(self.id),
                current=self.status,
                deadline=self.deadline.isoformat(),
            )
        self._expire(**self._tally(None))

    @event(VoteCast)
    def _cast_vote(self, voter_id: str, approve: bool, phase: str) -> None:
        self.votes.setdefault(phase, {})[voter_id] = approve

    @event(PhaseAdvanced)
    def _advance(self, phase: str) -> None:
        self.phase = phase
        self.votes.setdefault(phase, {})

    @event(Decided)
    def _decide(
        self,
        outcome: str,
        approvals: int,
        rejections: int,
        approve_weight: float,
        reject_weight: float,
        confidence: float,
        unanimous: bool,
        timestamp: datetime | None = None,
    ) -> None:
        self.status = outcome
        self.outcome = outcome
        self.approvals, self.rejections = approvals, rejections
        self.approve_weight, self.reject_weight = approve_weight, reject_weight
        self.confidence, self.unanimous = confidence, unanimous
        self.decided_at = timestamp

    @event(Expired)
    def _expire(
        self,
        approvals: int,
        rejections: int,
        approve_weight: float,
        reject_weight: float,
        confidence: float,
        unanimous: bool,
        timestamp: datetime | None = None,
    ) -> None:
        self.status = ProposalStatus.EXPIRED.value
        self.outcome = ProposalStatus.EXPIRED.value
        self.approvals, self.rejections = approvals, rejections
        self.approve_weight, self.reject_weight = approve_weight, reject_weight
        self.confidence, self.unanimous = confidence, unanimous
        self.decided_at = timestamp
