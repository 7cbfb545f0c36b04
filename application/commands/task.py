"""Commands on tasks."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from application.commands.base import Capability, Command, LongText, Text


class CreateTask(Command):
    permission: ClassVar[str] = "task:create"
    description: str = Field(min_length=1, max_length=2000)
    task_type: Text
    priority: Text = "normal"
    required_capabilities: list[Capability] = Field(default_factory=list, max_length=50)
    dependencies: list[UUID] = Field(default_factory=list, max_length=100)
    max_retries: int = Field(default=3, ge=0, le=20)
    timeout_seconds: float = Field(default=300.0, ge=1, le=86_400)
    swarm_id: UUID | None = None


class AssignTask(Command):
    """Assign to the given agent, or let the strategy choose among the swarm's members."""

    permission: ClassVar[str] = "task:assign"
    task_id: UUID
    agent_id: UUID | None = None
    strategy: Text = "capability"
    swarm_id: UUID | None = None


class StartTask(Command):
    permission: ClassVar[str] = "task:start"
    task_id: UUID


class ReportTaskProgress(Command):
    permission: ClassVar[str] = "task:progress"
    task_id: UUID
    percent: int = Field(ge=0, le=100)


class CompleteTask(Command):
    permission: ClassVar[str] = "task:complete"
    task_id: UUID
    result: LongText = ""


class FailTask(Command):
    permission: ClassVar[str] = "task:fail"
    task_id: UUID
    error: LongText = ""
    retryable: bool = True
    """False for a failure no retry can mend (bad input, an impossible request)."""


class RetryTask(Command):
    permission: ClassVar[str] = "task:retry"
    task_id: UUID


class CancelTask(Command):
    permission: ClassVar[str] = "task:cancel"
    task_id: UUID
    reason: LongText = ""


class TimeOutTask(Command):
    permission: ClassVar[str] = "task:timeout"
    task_id: UUID
