"""The simulator's proposal round: one strategy-change proposal put to a swarm's vote.

Every random choice comes from the ``rng`` passed in (the simulation's own), in a
fixed order, so the same seed proposes and votes the same way.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from uuid import UUID

from application.commands import CastVote, CreateProposal
from application.store import EventStore
from domain.errors import AlreadyVoted
from domain.proposal import Proposal, ProposalStatus

PROTOCOLS = ("majority", "supermajority", "unanimous", "byzantine", "weighted")
APPROVAL_PROBABILITY = 0.75


def propose_strategy_change(
    do: Callable[[object], UUID],
    store: EventStore,
    rng: random.Random,
    swarm_id: UUID,
    members: Sequence[UUID],
    round_number: int,
) -> str:
    """Propose a random strategy to ``members`` and let them vote; the final status.

    ``do`` runs a command and returns its aggregate id. The protocol cycles through
    :data:`PROTOCOLS` by ``round_number``. Members vote in a shuffled order, each
    approving with probability :data:`APPROVAL_PROBABILITY`, until the proposal
    closes; a byzantine proposal gets a second phase of votes.
    """
    protocol = PROTOCOLS[round_number % len(PROTOCOLS)]
    strategy = rng.choice(["balanced", "specialized", "adaptive"])
    proposal_id = do(
        CreateProposal(
            swarm_id=swarm_id,
            proposer_id=rng.choice(members),
            title=f"switch to the {strategy} strategy",
            value={"strategy": strategy},
            protocol=protocol,
            action={"type": "change_strategy", "strategy": strategy},
        )
    )
    for phase in range(2):
        for voter in rng.sample(members, len(members)):
            if store.load(Proposal, proposal_id).status != ProposalStatus.OPEN:
                break
            try:
                do(
                    CastVote(
                        proposal_id=proposal_id,
                        voter_id=voter,
                        approve=rng.random() < APPROVAL_PROBABILITY,
                    )
                )
            except AlreadyVoted:
                continue
        if phase == 0 and protocol != "byzantine":
            break
    return store.load(Proposal, proposal_id).status
