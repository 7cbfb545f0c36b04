"""Commands on swarms."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from application.commands.base import Command, LongText, Text


class InitSwarm(Command):
    permission: ClassVar[str] = "swarm:init"
    name: Text
    topology: Text
    strategy: Text = "balanced"
    max_agents: int = Field(default=10, ge=1, le=1000)
    max_depth: int = Field(default=3, ge=1, le=10)
    branching_factor: int = Field(default=3, ge=1, le=50)


class JoinSwarm(Command):
    permission: ClassVar[str] = "swarm:join"
    swarm_id: UUID
    agent_id: UUID


class LeaveSwarm(Command):
    permission: ClassVar[str] = "swarm:leave"
    swarm_id: UUID
    agent_id: UUID
    reason: LongText = ""


class ScaleSwarm(Command):
    permission: ClassVar[str] = "swarm:scale"
    swarm_id: UUID
    max_agents: int = Field(ge=1, le=1000)


class OptimizeSwarm(Command):
    permission: ClassVar[str] = "swarm:optimize"
    swarm_id: UUID


class ShutdownSwarm(Command):
    permission: ClassVar[str] = "swarm:shutdown"
    swarm_id: UUID
    reason: LongText = ""


class ChangeSwarmStrategy(Command):
    """Issued when an accepted proposal carries a change of strategy."""

    permission: ClassVar[str] = "swarm:strategy"
    swarm_id: UUID
    strategy: Text
