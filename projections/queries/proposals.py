"""Queries of the proposals read model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select

from projections.columns import sid
from projections.proposals import ProposalsProjection
from projections.queries._common import Bind, aware, fetch_all, fetch_one, page_size, utc

MAX_PAGE = 200
_views = ProposalsProjection().views()
_proposals = _views["proposals"]
_votes = _views["votes"]


@dataclass(frozen=True)
class VoteView:
    voter_id: str
    phase: str
    approve: bool
    weight: float
    cast_at: datetime | None


@dataclass(frozen=True)
class ProposalView:
    proposal_id: str
    swarm_id: str
    proposer_id: str
    title: str
    value: Any
    action: dict[str, Any] | None
    protocol: str
    phase: str
    participants: tuple[str, ...]
    weights: dict[str, float]
    deadline: datetime | None
    status: str
    outcome: str | None
    approvals: int
    rejections: int
    approve_weight: float
    reject_weight: float
    confidence: float
    unanimous: bool
    created_at: datetime
    decided_at: datetime | None
    version: int
    updated_at: datetime | None


@dataclass(frozen=True)
class ProposalWithVotes(ProposalView):
    votes: tuple[VoteView, ...] = ()
    """Every vote, in the order cast."""


def _fields(row: RowMapping) -> dict[str, Any]:
    return {
        "proposal_id": row["proposal_id"],
        "swarm_id": row["swarm_id"],
        "proposer_id": row["proposer_id"],
        "title": row["title"],
        "value": row["value"],
        "action": row["action"],
        "protocol": row["protocol"],
        "phase": row["phase"],
        "participants": tuple(row["participants"]),
        "weights": dict(row["weights"]),
        "deadline": aware(row["deadline"]),
        "status": row["status"],
        "outcome": row["outcome"],
        "approvals": row["approvals"],
        "rejections": row["rejections"],
        "approve_weight": row["approve_weight"],
        "reject_weight": row["reject_weight"],
        "confidence": row["confidence"],
        "unanimous": bool(row["unanimous"]),
        "created_at": utc(row["created_at"]),
        "decided_at": aware(row["decided_at"]),
        "version": row["version"],
        "updated_at": aware(row["updated_at"]),
    }


def get_proposal(bind: Bind, proposal_id: Any) -> ProposalWithVotes | None:
    key = sid(proposal_id)
    row = fetch_one(bind, select(_proposals).where(_proposals.c.proposal_id == key))
    if row is None:
        return None
    fields = _fields(row)
    return ProposalWithVotes(**fields, votes=votes_of(bind, [key])[fields["proposal_id"]])


def list_proposals(
    bind: Bind,
    *,
    swarm_id: Any = None,
    status: str | None = None,
    after: Any = None,
    limit: int = 50,
) -> list[ProposalView]:
    """Proposals (without their votes) in id order, from the one after ``after``; at
    most ``limit`` (cap 200)."""
    query = select(_proposals).order_by(_proposals.c.proposal_id).limit(page_size(limit, MAX_PAGE))
    if swarm_id is not None:
        query = query.where(_proposals.c.swarm_id == sid(swarm_id))
    if status is not None:
        query = query.where(_proposals.c.status == status)
    if after is not None:
        query = query.where(_proposals.c.proposal_id > sid(after))
    return [ProposalView(**_fields(row)) for row in fetch_all(bind, query)]


def votes_of(bind: Bind, proposal_ids: Iterable[Any]) -> dict[str, tuple[VoteView, ...]]:
    """The votes of each of these proposals in the order cast, in one query."""
    keys = [key for key in {sid(i) for i in proposal_ids} if key is not None]
    found: dict[str, list[VoteView]] = {key: [] for key in keys}
    if keys:
        rows = fetch_all(
            bind,
            select(_votes)
            .where(_votes.c.proposal_id.in_(keys))
            .order_by(_votes.c.proposal_id, _votes.c.version),
        )
        for v in rows:
            found[v["proposal_id"]].append(
                VoteView(
                    voter_id=v["voter_id"],
                    phase=v["phase"],
                    approve=bool(v["approve"]),
                    weight=v["weight"],
                    cast_at=aware(v["cast_at"]),
                )
            )
    return {key: tuple(votes) for key, votes in found.items()}
