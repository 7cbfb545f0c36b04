"""Handlers of consensus commands."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from application.bus import Handler
from application.commands import CastVote, CloseExpiredProposal, Command, CreateProposal
from application.unit_of_work import UnitOfWork
from domain.agent import Agent
from domain.consensus import ConsensusProtocol
from domain.errors import NotParticipant
from domain.proposal import Proposal
from domain.swarm import Swarm

MIN_WEIGHT = 0.05
"""A newcomer's expertise is near zero; a floor keeps every participant's vote alive."""


def create_proposal(command: CreateProposal, uow: UnitOfWork) -> Proposal:
    swarm = uow.read(Swarm, command.swarm_id)
    participants = sorted(swarm.members)
    if str(command.proposer_id) not in swarm.members:
        raise NotParticipant(
            f"agent {command.proposer_id} is not a member of swarm {swarm.id}",
            proposer_id=str(command.proposer_id),
        )
    weights = None
    if command.protocol == ConsensusProtocol.WEIGHTED:
        weights = {
            member: round(max(MIN_WEIGHT, uow.read(Agent, UUID(member)).expertise(uow.now)), 6)
            for member in participants
        }
    return uow.add(
        Proposal.create(
            swarm_id=swarm.id,
            proposer_id=str(command.proposer_id),
            title=command.title,
            value=command.value,
            protocol=command.protocol,
            participants=participants,
            deadline=uow.now + timedelta(seconds=command.ttl_seconds),
            weights=weights,
            action=command.action,
        )
    )


def cast_vote(command: CastVote, uow: UnitOfWork) -> Proposal:
    proposal = uow.get(Proposal, command.proposal_id)
    proposal.cast_vote(str(command.voter_id), command.approve, uow.now)
    return proposal


def close_expired_proposal(command: CloseExpiredProposal, uow: UnitOfWork) -> Proposal:
    proposal = uow.get(Proposal, command.proposal_id)
    proposal.expire(uow.now)
    return proposal


HANDLERS: dict[type[Command], Handler] = {
    CreateProposal: create_proposal,
    CastVote: cast_vote,
    CloseExpiredProposal: close_expired_proposal,
}
