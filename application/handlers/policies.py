"""Handlers of the commands policies issue."""

from __future__ import annotations

from uuid import UUID

from application.bus import Handler
from application.commands import (
    CarryOutProposal,
    Command,
    ReleaseTask,
    RequeueTasks,
    ResolveDependents,
    ScoreVotes,
    TakeTask,
)
from application.unit_of_work import UnitOfWork
from domain.agent import Agent
from domain.proposal import Proposal, ProposalStatus
from domain.swarm import Swarm
from domain.task import Task, TaskStatus


def take_task(command: TakeTask, uow: UnitOfWork) -> Agent:
    agent = uow.get(Agent, command.agent_id)
    agent.take_task(command.task_id)
    return agent


def release_task(command: ReleaseTask, uow: UnitOfWork) -> Agent:
    agent = uow.get(Agent, command.agent_id)
    agent.release_task(command.task_id, command.outcome)
    return agent


def requeue_tasks(command: RequeueTasks, uow: UnitOfWork) -> Agent:
    """Tasks still held by the agent go back to the queue; others are left alone."""
    for task_id in command.task_ids:
        task = uow.get(Task, task_id)
        held = task.status in (TaskStatus.ASSIGNED, TaskStatus.RUNNING)
        if held and task.agent_id == command.agent_id:
            task.requeue(command.reason)
    return uow.read(Agent, command.agent_id)


def resolve_dependents(command: ResolveDependents, uow: UnitOfWork) -> Task:
    completed = uow.read(Task, command.task_id)
    for dependent_id in completed.dependents:
        uow.get(Task, dependent_id).dependency_completed(completed.id)
    return completed


def score_votes(command: ScoreVotes, uow: UnitOfWork) -> Proposal:
    proposal = uow.read(Proposal, command.proposal_id)
    accepted = proposal.status == ProposalStatus.ACCEPTED
    for voter, approve in proposal.deciding_votes().items():
        uow.get(Agent, UUID(voter)).score_vote(proposal.id, approve == accepted)
    return proposal


def carry_out_proposal(command: CarryOutProposal, uow: UnitOfWork) -> Proposal:
    proposal = uow.read(Proposal, command.proposal_id)
    action = proposal.action or {}
    kind = action.get("type")
    if kind == "scale_swarm":
        uow.get(Swarm, proposal.swarm_id).scale(int(action["max_agents"]))
    elif kind == "change_strategy":
        uow.get(Swarm, proposal.swarm_id).change_strategy(str(action["strategy"]))
    elif kind == "reassign_task":
        task = uow.get(Task, UUID(str(action["task_id"])))
        agent = uow.get(Agent, UUID(str(action["agent_id"])))
        if task.status in (TaskStatus.ASSIGNED, TaskStatus.RUNNING):
            task.requeue(f"reassigned by proposal {proposal.id}")
        task.assign(agent.id, "consensus", 1.0)
    return proposal


HANDLERS: dict[type[Command], Handler] = {
    TakeTask: take_task,
    ReleaseTask: release_task,
    RequeueTasks: requeue_tasks,
    ResolveDependents: resolve_dependents,
    ScoreVotes: score_votes,
    CarryOutProposal: carry_out_proposal,
}
