"""Proposals over GraphQL: the proposal type with its votes, its queries and its mutations."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.agents import PageInfo
from api.graphql.commands import dispatch
from api.graphql.context import Context
from api.graphql.errors import UserError
from api.graphql.scalars import Position
from application.bus import CommandResult
from application.commands import CastVote, CloseExpiredProposal, CreateProposal
from domain.proposal import Proposal
from projections.queries.proposals import (
    ProposalView,
    ProposalWithVotes,
    VoteView,
    get_proposal,
    list_proposals,
    votes_of,
)


@strawberry.type
class Vote:
    voter_id: strawberry.ID
    approve: bool
    phase: str


@strawberry.type(name="Proposal")
class ProposalNode:
    id: strawberry.ID
    swarm_id: strawberry.ID
    proposer_id: strawberry.ID
    title: str
    value: JSON | None
    action: JSON | None
    protocol: str
    status: str
    outcome: str | None
    approvals: int
    rejections: int
    confidence: float
    unanimous: bool
    participants: list[strawberry.ID]
    version: int
    known_votes: strawberry.Private[list[Vote] | None] = None

    @strawberry.field(description="Every vote, in the order cast.")
    async def votes(self, info: Info[Context, Any]) -> list[Vote]:
        if self.known_votes is not None:
            return self.known_votes
        found = await info.context.loader(votes_of).load(str(self.id))
        return _votes(found or ())

    @classmethod
    def from_view(cls, view: ProposalView) -> ProposalNode:
        return cls(
            id=strawberry.ID(view.proposal_id),
            swarm_id=strawberry.ID(view.swarm_id),
            proposer_id=strawberry.ID(view.proposer_id),
            title=view.title,
            value=view.value,
            action=JSON(view.action),
            protocol=view.protocol,
            status=view.status,
            outcome=view.outcome,
            approvals=view.approvals,
            rejections=view.rejections,
            confidence=view.confidence,
            unanimous=view.unanimous,
            participants=[strawberry.ID(p) for p in view.participants],
            version=view.version,
            known_votes=_votes(view.votes) if isinstance(view, ProposalWithVotes) else None,
        )

    @classmethod
    def from_aggregate(cls, proposal: Proposal) -> ProposalNode:
        return cls(
            id=strawberry.ID(str(proposal.id)),
            swarm_id=strawberry.ID(str(proposal.swarm_id)),
            proposer_id=strawberry.ID(proposal.proposer_id),
            title=proposal.title,
            value=proposal.value,
            action=JSON(proposal.action),
            protocol=proposal.protocol,
            status=proposal.status,
            outcome=proposal.outcome,
            approvals=proposal.approvals,
            rejections=proposal.rejections,
            confidence=proposal.confidence,
            unanimous=proposal.unanimous,
            participants=[strawberry.ID(p) for p in proposal.participants],
            version=proposal.version,
            known_votes=[
                Vote(voter_id=strawberry.ID(voter), approve=approve, phase=phase)
                for phase, ballots in proposal.votes.items()
                for voter, approve in ballots.items()
            ],
        )


def _votes(votes: Iterable[VoteView]) -> list[Vote]:
    return [
        Vote(voter_id=strawberry.ID(v.voter_id), approve=v.approve, phase=v.phase) for v in votes
    ]


@strawberry.type
class ProposalConnection:
    nodes: list[ProposalNode]
    page_info: PageInfo


@strawberry.type(
    description="The proposal as it is after the command, and where its events landed."
)
class ProposalPayload:
    proposal: ProposalNode | None
    position: Position | None
    errors: list[UserError]


async def _read(info: Info[Context, Any], at_least: Position | None) -> Context:
    context: Context = info.context
    await context.read("proposal:read", info.field_name, "proposals", at_least)
    return context


@strawberry.type
class ProposalQueries:
    @strawberry.field(description="One proposal with its votes, from the proposals read model.")
    async def proposal(
        self, info: Info[Context, Any], id: strawberry.ID, at_least: Position | None = None
    ) -> ProposalNode | None:
        context = await _read(info, at_least)
        view = await asyncio.to_thread(get_proposal, context.runtime.runner.engine, str(id))
        return ProposalNode.from_view(view) if view is not None else None

    @strawberry.field(description="Proposals in id order; `first` is capped at 200.")
    async def proposals(
        self,
        info: Info[Context, Any],
        first: int = 50,
        after: str | None = None,
        swarm_id: strawberry.ID | None = None,
        at_least: Position | None = None,
    ) -> ProposalConnection:
        context = await _read(info, at_least)
        size = max(1, min(first, 200))
        views = await asyncio.to_thread(
            list_proposals,
            context.runtime.runner.engine,
            swarm_id=swarm_id,
            after=after,
            limit=size + 1,
        )
        page = views[:size]
        return ProposalConnection(
            nodes=[ProposalNode.from_view(v) for v in page],
            page_info=PageInfo(
                end_cursor=page[-1].proposal_id if page else None, has_next_page=len(views) > size
            ),
        )


async def _proposal_payload(
    info: Info[Context, Any], kind: type, data: dict[str, Any]
) -> ProposalPayload:
    store = info.context.runtime.swarmlog.store

    def present(result: CommandResult) -> ProposalNode:
        return ProposalNode.from_aggregate(store.load(Proposal, result.aggregate_id, copy=False))

    outcome = await dispatch(info, kind, data, present)
    if isinstance(outcome, list):
        return ProposalPayload(proposal=None, position=None, errors=outcome)
    result, node = outcome
    return ProposalPayload(proposal=node, position=Position(result.position), errors=[])


@strawberry.type
class ProposalMutations:
    @strawberry.mutation
    async def create_proposal(
        self,
        info: Info[Context, Any],
        swarm_id: strawberry.ID,
        proposer_id: strawberry.ID,
        title: str,
        value: JSON,
        protocol: str | None = None,
        action: JSON | None = None,
        ttl_seconds: float | None = None,
        idempotency_key: str | None = None,
    ) -> ProposalPayload:
        data = {
            "swarm_id": swarm_id,
            "proposer_id": proposer_id,
            "title": title,
            "value": value,
            "protocol": protocol,
            "action": action,
            "ttl_seconds": ttl_seconds,
            "idempotency_key": idempotency_key,
        }
        return await _proposal_payload(info, CreateProposal, data)

    @strawberry.mutation
    async def cast_vote(
        self,
        info: Info[Context, Any],
        proposal_id: strawberry.ID,
        voter_id: strawberry.ID,
        approve: bool,
    ) -> ProposalPayload:
        data = {"proposal_id": proposal_id, "voter_id": voter_id, "approve": approve}
        return await _proposal_payload(info, CastVote, data)

    @strawberry.mutation(description="Close a proposal whose deadline has passed (expired).")
    async def close_expired_proposal(
        self, info: Info[Context, Any], proposal_id: strawberry.ID
    ) -> ProposalPayload:
        return await _proposal_payload(info, CloseExpiredProposal, {"proposal_id": proposal_id})
