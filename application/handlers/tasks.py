"""Handlers of task commands."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from application.assignment import AssignmentStrategy, Choice, capability_score
from application.bus import Handler
from application.commands import (
    AssignTask,
    CancelTask,
    Command,
    CompleteTask,
    CreateTask,
    FailTask,
    ReportTaskProgress,
    RetryTask,
    StartTask,
    TimeOutTask,
)
from application.unit_of_work import UnitOfWork
from domain.agent import Agent
from domain.dependencies import ensure_acyclic
from domain.errors import CapacityExceeded, InvalidTransition, ValidationError
from domain.swarm import Swarm
from domain.task import Task, TaskStatus


def create_task(command: CreateTask, uow: UnitOfWork) -> Task:
    """Create the task; each open dependency learns of its new dependent in the same save."""
    dependencies = [uow.get(Task, d) for d in dict.fromkeys(command.dependencies)]
    if command.swarm_id is not None:
        uow.read(Swarm, command.swarm_id)
    open_ones = [d for d in dependencies if d.status != TaskStatus.COMPLETED]
    task = uow.add(
        Task.create(
            description=command.description,
            task_type=command.task_type,
            priority=command.priority,
            required_capabilities=command.required_capabilities,
            dependencies=[d.id for d in dependencies],
            open_dependencies=[d.id for d in open_ones],
            max_retries=command.max_retries,
            timeout_seconds=command.timeout_seconds,
            swarm_id=command.swarm_id,
        )
    )
    graph = {d.id: list(d.dependencies) for d in dependencies}
    ensure_acyclic(graph, task.id, task.dependencies)
    for dependency in open_ones:
        dependency.add_dependent(task.id)
    return task


def assign_task(
    command: AssignTask, uow: UnitOfWork, strategies: Mapping[str, AssignmentStrategy]
) -> Task:
    task = uow.get(Task, command.task_id)
    if command.agent_id is not None:
        choice = _given_agent(task, uow.read(Agent, command.agent_id))
        strategy = "manual"
    else:
        strategy = command.strategy
        choice = _chosen_agent(task, command, uow, strategies)
    task.assign(choice.agent.id, strategy, round(choice.score, 6), choice.note)
    return task


def _given_agent(task: Task, agent: Agent) -> Choice:
    if not agent.accepts_work:
        raise InvalidTransition(
            f"agent {agent.id} is {agent.state}; it takes work only when ready, working or waiting",
            current=agent.state,
        )
    if agent.load >= agent.max_load:
        raise CapacityExceeded(
            f"agent {agent.id} already holds {agent.load} of {agent.max_load} tasks",
            load=agent.load,
            max_load=agent.max_load,
        )
    return Choice(agent, capability_score(task, agent))


def _chosen_agent(
    task: Task,
    command: AssignTask,
    uow: UnitOfWork,
    strategies: Mapping[str, AssignmentStrategy],
) -> Choice:
    if command.strategy not in strategies:
        raise ValidationError(
            f"unknown strategy {command.strategy!r}; use one of {sorted(strategies)}",
            field="strategy",
        )
    pool = command.swarm_id or task.swarm_id
    if pool is None:
        raise ValidationError(
            "give an agent_id, or a swarm_id whose members the strategy chooses from",
            field="swarm_id",
        )
    swarm = uow.read(Swarm, pool)
    agents = [uow.read(Agent, UUID(member)) for member in swarm.members]
    choice = strategies[command.strategy].choose(task, agents, pool)
    if choice is None:
        raise CapacityExceeded(f"no agent of swarm {pool} can take a task now", swarm_id=str(pool))
    return choice


def start_task(command: StartTask, uow: UnitOfWork) -> Task:
    task = uow.get(Task, command.task_id)
    task.start()
    return task


def report_task_progress(command: ReportTaskProgress, uow: UnitOfWork) -> Task:
    task = uow.get(Task, command.task_id)
    task.report_progress(command.percent)
    return task


def complete_task(command: CompleteTask, uow: UnitOfWork) -> Task:
    task = uow.get(Task, command.task_id)
    task.complete(command.result)
    return task


def fail_task(command: FailTask, uow: UnitOfWork) -> Task:
    task = uow.get(Task, command.task_id)
    task.fail(command.error, retryable=command.retryable)
    return task


def retry_task(command: RetryTask, uow: UnitOfWork) -> Task:
    task = uow.get(Task, command.task_id)
    task.retry()
    return task


def cancel_task(command: CancelTask, uow: UnitOfWork) -> Task:
    task = uow.get(Task, command.task_id)
    task.cancel(command.reason)
    return task


def time_out_task(command: TimeOutTask, uow: UnitOfWork) -> Task:
    task = uow.get(Task, command.task_id)
    task.time_out(uow.now)
    return task


HANDLERS: dict[type[Command], Handler] = {
    CreateTask: create_task,
    StartTask: start_task,
    ReportTaskProgress: report_task_progress,
    CompleteTask: complete_task,
    FailTask: fail_task,
    RetryTask: retry_task,
    CancelTask: cancel_task,
    TimeOutTask: time_out_task,
}
