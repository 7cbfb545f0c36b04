"""The proposals read model: each proposal, its phase and its decision (or expiry) with
the tally, and every vote cast, per phase, with the voter's weight."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Column, Float, Integer, String

from domain.proposal import Proposal
from projections.changes import Changes
from projections.columns import id_column, json_column, sid, time_column
from projections.projection import Projection, handles


def _proposal_columns() -> list[Column[Any]]:
    return [
        id_column("proposal_id", primary_key=True),
        Column("swarm_id", String(36), nullable=False, index=True),
        id_column("proposer_id", nullable=False),
        Column("title", String(200), nullable=False),
        json_column("value"),
        Column("action", JSON),
        Column("protocol", String(20), nullable=False),
        Column("phase", String(20), nullable=False),
        json_column("participants"),
        json_column("weights"),
        time_column("deadline"),
        Column("status", String(20), nullable=False, index=True),
        Column("outcome", String(20)),
        Column("approvals", Integer, nullable=False),
        Column("rejections", Integer, nullable=False),
        Column("approve_weight", Float, nullable=False),
        Column("reject_weight", Float, nullable=False),
        Column("confidence", Float, nullable=False),
        Column("unanimous", Boolean, nullable=False),
        time_column("created_at"),
        time_column("decided_at"),
        Column("version", Integer, nullable=False),
        time_column("updated_at"),
    ]


def _vote_columns() -> list[Column[Any]]:
    return [
        id_column("proposal_id", primary_key=True),
        Column("voter_id", String(36), primary_key=True),
        Column("phase", String(20), primary_key=True),
        Column("approve", Boolean, nullable=False),
        Column("weight", Float, nullable=False),
        time_column("cast_at"),
        Column("version", Integer, nullable=False),
    ]


class ProposalsProjection(Projection):
    name: ClassVar[str] = "proposals"
    version: ClassVar[int] = 1
    columns = {"proposals": _proposal_columns, "votes": _vote_columns}

    def prefetch(self, changes: Changes, events: list[Any]) -> None:
        # votes are only ever inserted (one per voter and phase): nothing to read first
        changes.prefetch("proposals", sorted({sid(e.originator_id) for e in events}))

    def _touch(self, changes: Changes, event: Any, **values: Any) -> dict[str, Any] | None:
        return changes.update(
            "proposals",
            sid(event.originator_id),
            version=event.originator_version,
            updated_at=event.timestamp,
            **values,
        )

    def _close(self, changes: Changes, event: Any, status: str) -> None:
        self._touch(
            changes,
            event,
            status=status,
            outcome=status,
            approvals=event.approvals,
            rejections=event.rejections,
            approve_weight=event.approve_weight,
            reject_weight=event.reject_weight,
            confidence=event.confidence,
            unanimous=event.unanimous,
            decided_at=event.timestamp,
        )

    @handles(Proposal.Created)
    def created(self, changes: Changes, event: Proposal.Created) -> None:
        changes.put(
            "proposals",
            {
                "proposal_id": sid(event.originator_id),
                "swarm_id": sid(event.swarm_id),
                "proposer_id": sid(event.proposer_id),
                "title": event.title,
                "value": event.value,
                "action": event.action,
                "protocol": event.protocol,
                "phase": event.phase,
                "participants": list(event.participants),
                "weights": dict(event.weights),
                "deadline": event.deadline,
                "status": "open",
                "outcome": None,
                "approvals": 0,
                "rejections": 0,
                "approve_weight": 0.0,
                "reject_weight": 0.0,
                "confidence": 0.0,
                "unanimous": False,
                "created_at": event.timestamp,
                "decided_at": None,
                "version": event.originator_version,
                "updated_at": event.timestamp,
            },
        )

    @handles(Proposal.VoteCast)
    def vote_cast(self, changes: Changes, event: Proposal.VoteCast) -> None:
        proposal_id = sid(event.originator_id)
        row = self._touch(changes, event)
        weights = row["weights"] if row is not None else {}
        changes.put(
            "votes",
            {
                "proposal_id": proposal_id,
                "voter_id": event.voter_id,
                "phase": event.phase,
                "approve": event.approve,
                "weight": float(weights.get(event.voter_id, 1.0)),
                "cast_at": event.timestamp,
                "version": event.originator_version,
            },
        )

    @handles(Proposal.PhaseAdvanced)
    def phase_advanced(self, changes: Changes, event: Proposal.PhaseAdvanced) -> None:
        self._touch(changes, event, phase=event.phase)

    @handles(Proposal.Decided)
    def decided(self, changes: Changes, event: Proposal.Decided) -> None:
        self._close(changes, event, event.outcome)

    @handles(Proposal.Expired)
    def expired(self, changes: Changes, event: Proposal.Expired) -> None:
        self._close(changes, event, "expired")
