"""Commands that only policies issue: the cross-aggregate consequences of events.

Each reaction of a policy to one event is one of these commands, saved in one
transaction together with the policy's position in the log.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from application.commands.base import Command, LongText, Text


class PolicyCommand(Command):
    permission: ClassVar[str] = "system:policy"


class TakeTask(PolicyCommand):
    """The agent takes on the task it was assigned."""

    agent_id: UUID
    task_id: UUID


class ReleaseTask(PolicyCommand):
    """A task the agent held has ended or moved on."""

    agent_id: UUID
    task_id: UUID
    outcome: Text


class RequeueTasks(PolicyCommand):
    """The agent can no longer hold these tasks: back to the queue with them."""

    agent_id: UUID
    task_ids: list[UUID] = Field(max_length=1000)
    reason: LongText = ""


class ResolveDependents(PolicyCommand):
    """The task completed: every task waiting on it learns so."""

    task_id: UUID


class ScoreVotes(PolicyCommand):
    """The proposal was decided: each voter's expertise learns whether it agreed."""

    proposal_id: UUID


class CarryOutProposal(PolicyCommand):
    """The proposal was accepted and carries an action: do it."""

    proposal_id: UUID
