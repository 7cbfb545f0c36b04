"""Queries of the expertise read model.

The expertise score depends on when it is read (its recency term decays with the age
of the last vote), so it is computed here, by the domain's own formula: the stored
record is handed to ``Agent.expertise`` in place of an agent, so that the read side
and the write side can never disagree on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select

from domain.agent import Agent
from projections.columns import sid
from projections.expertise import ExpertiseProjection
from projections.queries._common import Bind, aware, fetch_one

_expertise = ExpertiseProjection().views()["agent_expertise"]


@dataclass(frozen=True)
class ExpertiseView:
    agent_id: str
    votes_cast: int
    votes_agreed: int
    accuracy: float
    """agreed / cast; 0.5 (the domain's neutral prior) before the first vote."""
    volume: float
    last_vote_at: datetime | None
    expertise: float
    """0.6 * accuracy + 0.2 * recency + 0.2 * volume at the time asked about."""


@dataclass(frozen=True)
class _VotingRecord:
    """The attributes ``Agent.expertise`` reads."""

    votes_cast: int
    votes_agreed: int
    last_vote_at: datetime | None


def expertise_score(
    votes_cast: int, votes_agreed: int, last_vote_at: datetime | None, now: datetime
) -> float:
    """The domain's expertise of an agent with this voting record, at ``now``."""
    record = _VotingRecord(votes_cast, votes_agreed, last_vote_at)
    return Agent.expertise(cast(Agent, record), now)


def agent_expertise(bind: Bind, agent_id: Any, now: datetime) -> ExpertiseView | None:
    """The agent's voting record and expertise at ``now`` (an aware datetime); None
    when there is no such agent."""
    row = fetch_one(bind, select(_expertise).where(_expertise.c.agent_id == sid(agent_id)))
    if row is None:
        return None
    last = aware(row["last_vote_at"])
    return ExpertiseView(
        agent_id=row["agent_id"],
        votes_cast=row["votes_cast"],
        votes_agreed=row["votes_agreed"],
        accuracy=row["accuracy"],
        volume=row["volume"],
        last_vote_at=last,
        expertise=expertise_score(row["votes_cast"], row["votes_agreed"], last, now),
    )
