"""What each policy does when an event it cares about appears in the log.

A policy answers one event with at most one command. Every command here is
harmless to repeat, and the runner records the policy's position in the same
transaction as the command's events, so each event is acted on exactly once.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from application.commands import (
    CarryOutProposal,
    Command,
    ReleaseTask,
    RequeueTasks,
    ResolveDependents,
    ScoreVotes,
    TakeTask,
)
from domain.agent import Agent
from domain.errors import DomainError
from domain.proposal import Proposal
from domain.task import Task


class Policy(Protocol):
    name: ClassVar[str]
    reacts_to: ClassVar[tuple[type, ...]]

    def react(self, event: Any) -> Command | None: ...

    def compensate(self, command: Command, error: DomainError) -> Command | None: ...


class AgentWorkload:
    """An assigned task makes its agent working; a task that ends or moves frees it;
    a terminated agent's open tasks go back to the queue."""

    name: ClassVar[str] = "agent_workload"
    reacts_to: ClassVar[tuple[type, ...]] = (
        Task.Assigned,
        Task.Completed,
        Task.Failed,
        Task.Cancelled,
        Task.TimedOut,
        Task.Requeued,
        Agent.Terminated,
    )
    outcomes: ClassVar[dict[type, str]] = {
        Task.Completed: "completed",
        Task.Failed: "failed",
        Task.Cancelled: "cancelled",
        Task.TimedOut: "timed_out",
        Task.Requeued: "requeued",
    }

    def react(self, event: Any) -> Command | None:
        if isinstance(event, Task.Assigned):
            return TakeTask(agent_id=event.agent_id, task_id=event.originator_id)
        if isinstance(event, Agent.Terminated):
            if not event.released_task_ids:
                return None
            return RequeueTasks(
                agent_id=event.originator_id,
                task_ids=event.released_task_ids,
                reason="agent terminated",
            )
        if getattr(event, "agent_id", None) is None:
            return None
        return ReleaseTask(
            agent_id=event.agent_id,
            task_id=event.originator_id,
            outcome=self.outcomes[type(event)],
        )

    def compensate(self, command: Command, error: DomainError) -> Command | None:
        if isinstance(command, TakeTask):
            return RequeueTasks(
                agent_id=command.agent_id,
                task_ids=[command.task_id],
                reason=f"the agent could not take it: {error.message}",
            )
        return None


class TaskDependencies:
    """A task whose dependencies have all completed leaves blocked."""

    name: ClassVar[str] = "task_dependencies"
    reacts_to: ClassVar[tuple[type, ...]] = (Task.Completed,)

    def react(self, event: Any) -> Command | None:
        return ResolveDependents(task_id=event.originator_id)

    def compensate(self, command: Command, error: DomainError) -> Command | None:
        return None


class VoterExpertise:
    """Each decided proposal teaches its voters' expertise whether they agreed."""

    name: ClassVar[str] = "voter_expertise"
    reacts_to: ClassVar[tuple[type, ...]] = (Proposal.Decided,)

    def react(self, event: Any) -> Command | None:
        return ScoreVotes(proposal_id=event.originator_id)

    def compensate(self, command: Command, error: DomainError) -> Command | None:
        return None


class ProposalActions:
    """An accepted proposal that carries an action has it carried out."""

    name: ClassVar[str] = "proposal_actions"
    reacts_to: ClassVar[tuple[type, ...]] = (Proposal.Decided,)

    def react(self, event: Any) -> Command | None:
        if event.outcome != "accepted":
            return None
        return CarryOutProposal(proposal_id=event.originator_id)

    def compensate(self, command: Command, error: DomainError) -> Command | None:
        return None


ALL_POLICIES: tuple[Policy, ...] = (
    AgentWorkload(),
    TaskDependencies(),
    VoterExpertise(),
    ProposalActions(),
)
