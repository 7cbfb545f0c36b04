"""The proposals read model agrees with the Proposal aggregates, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from domain.proposal import Proposal
from projections.proposals import ProposalsProjection
from projections.queries import get_proposal, list_proposals
from tests.integration.projections.conftest import Workload, caught_up


@pytest.mark.parametrize("workload", ["scripted", "simulated"])
def test_every_proposal_and_its_votes_agree_with_the_aggregate(
    workload: str,
    request: pytest.FixtureRequest,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    source: Workload = request.getfixturevalue(workload)
    engine = engines(read_model_url)
    caught_up(source.app, engine, [ProposalsProjection()])
    proposal_ids = source.of(Proposal)
    assert proposal_ids
    with engine.connect() as conn:
        assert len(list_proposals(conn)) == len(proposal_ids)
        for proposal_id in proposal_ids:
            proposal = source.app.store.load(Proposal, proposal_id)
            view = get_proposal(conn, proposal_id)
            assert view is not None
            assert (
                view.proposal_id,
                view.swarm_id,
                view.proposer_id,
                view.title,
                view.value,
                view.action,
                view.protocol,
                view.phase,
                list(view.participants),
                view.weights,
                view.deadline,
                view.status,
                view.outcome,
                view.approvals,
                view.rejections,
                view.approve_weight,
                view.reject_weight,
                view.confidence,
                view.unanimous,
                view.created_at,
                view.decided_at,
                view.version,
                view.updated_at,
            ) == (
                str(proposal.id),
                str(proposal.swarm_id),
                proposal.proposer_id,
                proposal.title,
                proposal.value,
                proposal.action,
                proposal.protocol,
                proposal.phase,
                proposal.participants,
                proposal.weights,
                proposal.deadline,
                proposal.status,
                proposal.outcome,
                proposal.approvals,
                proposal.rejections,
                proposal.approve_weight,
                proposal.reject_weight,
                proposal.confidence,
                proposal.unanimous,
                proposal.created_on,
                proposal.decided_at,
                proposal.version,
                proposal.modified_on,
            )
            votes = {(v.phase, v.voter_id): v.approve for v in view.votes}
            assert votes == {
                (phase, voter): approve
                for phase, ballots in proposal.votes.items()
                for voter, approve in ballots.items()
            }
            assert all(v.weight == proposal.weights[v.voter_id] for v in view.votes)
            phases = [v.phase for v in view.votes]
            assert phases == sorted(phases, key=lambda p: p != "prepare")


def test_the_scripted_workload_decides_expires_and_advances_proposals(
    scripted: Workload, read_model_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(read_model_url)
    caught_up(scripted.app, engine, [ProposalsProjection()], batch_size=2)
    with engine.connect() as conn:
        shown = list_proposals(conn)
        byzantine = [get_proposal(conn, p.proposal_id) for p in shown if p.protocol == "byzantine"]
    assert {p.status for p in shown} >= {"accepted", "rejected", "expired"}
    assert byzantine[0] is not None
    assert {v.phase for v in byzantine[0].votes} == {"prepare", "commit"}
    assert {p.protocol for p in shown} >= {"majority", "byzantine", "weighted", "unanimous"}
