"""Commands on consensus proposals."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import Field

from application.commands.base import Command, Text


class CreateProposal(Command):
    """Propose a value to a swarm; its members at this moment are the participants."""

    permission: ClassVar[str] = "proposal:create"
    swarm_id: UUID
    proposer_id: UUID
    title: Text
    value: Any = None
    protocol: Text = "majority"
    action: dict[str, Any] | None = None
    ttl_seconds: float = Field(default=3600.0, gt=0, le=30 * 86_400)


class CastVote(Command):
    permission: ClassVar[str] = "proposal:vote"
    proposal_id: UUID
    voter_id: UUID
    approve: bool


class CloseExpiredProposal(Command):
    permission: ClassVar[str] = "proposal:close"
    proposal_id: UUID
