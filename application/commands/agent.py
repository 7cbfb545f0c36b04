"""Commands on agents."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from application.commands.base import Capability, Command, LongText, Text


class SpawnAgent(Command):
    """Create an agent; with ``start`` it is initialised and made ready at once."""

    permission: ClassVar[str] = "agent:spawn"
    name: Text
    agent_type: Text
    capabilities: list[Capability] = Field(min_length=1, max_length=50)
    max_load: int = Field(default=3, ge=1, le=100)
    start: bool = True


class TransitionAgent(Command):
    permission: ClassVar[str] = "agent:transition"
    agent_id: UUID
    to_state: Text
    reason: LongText = ""


class PauseAgent(Command):
    permission: ClassVar[str] = "agent:pause"
    agent_id: UUID
    reason: LongText = ""


class ResumeAgent(Command):
    permission: ClassVar[str] = "agent:resume"
    agent_id: UUID


class TerminateAgent(Command):
    permission: ClassVar[str] = "agent:terminate"
    agent_id: UUID
    reason: LongText = ""
