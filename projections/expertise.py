"""The expertise read model: each agent's voting record (votes cast and agreed with the
decision, accuracy, volume, last vote). The recency term of the expertise score
depends on the time of reading, so queries compute it (projections.queries.expertise)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Column, Float, Integer

from domain.agent import Agent
from projections.changes import Changes
from projections.columns import id_column, sid, time_column
from projections.projection import Projection, handles

NEUTRAL_ACCURACY = 0.5
"""The accuracy the domain assumes of an agent that has not voted yet."""
FULL_VOLUME = 20
"""Votes after which the volume term is 1 (as in Agent.expertise)."""


def _expertise_columns() -> list[Column[Any]]:
    return [
        id_column("agent_id", primary_key=True),
        Column("votes_cast", Integer, nullable=False),
        Column("votes_agreed", Integer, nullable=False),
        Column("accuracy", Float, nullable=False),
        time_column("last_vote_at"),
        Column("volume", Float, nullable=False),
    ]


class ExpertiseProjection(Projection):
    name: ClassVar[str] = "expertise"
    version: ClassVar[int] = 1
    columns = {"agent_expertise": _expertise_columns}

    def prefetch(self, changes: Changes, events: list[Any]) -> None:
        changes.prefetch("agent_expertise", sorted({sid(e.originator_id) for e in events}))

    @handles(Agent.Spawned)
    def spawned(self, changes: Changes, event: Agent.Spawned) -> None:
        changes.put(
            "agent_expertise",
            {
                "agent_id": sid(event.originator_id),
                "votes_cast": 0,
                "votes_agreed": 0,
                "accuracy": NEUTRAL_ACCURACY,
                "last_vote_at": None,
                "volume": 0.0,
            },
        )

    @handles(Agent.VoteScored)
    def vote_scored(self, changes: Changes, event: Agent.VoteScored) -> None:
        row = changes.get("agent_expertise", sid(event.originator_id))
        if row is None:
            return
        row["votes_cast"] += 1
        row["votes_agreed"] += int(event.agreed)
        changes.update(
            "agent_expertise",
            sid(event.originator_id),
            accuracy=row["votes_agreed"] / row["votes_cast"],
            volume=min(1.0, row["votes_cast"] / FULL_VOLUME),
            last_vote_at=event.timestamp,
        )
