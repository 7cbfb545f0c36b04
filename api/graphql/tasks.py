"""Tasks over GraphQL: the task type, its queries and its mutations."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.agents import AgentNode, PageInfo
from api.graphql.commands import dispatch
from api.graphql.context import Context
from api.graphql.errors import UserError
from application.bus import CommandResult
from application.commands import (
    AssignTask,
    CancelTask,
    CompleteTask,
    CreateTask,
    FailTask,
    ReportTaskProgress,
    RetryTask,
    StartTask,
    TimeOutTask,
)
from domain.task import Task
from projections.queries.agents import agents_by_id
from projections.queries.tasks import TaskView, get_task, list_tasks


def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value else None


@strawberry.type(name="Task")
class TaskNode:
    id: strawberry.ID
    description: str
    task_type: str
    priority: str
    required_capabilities: list[str]
    status: str
    agent_id: strawberry.ID | None
    swarm_id: strawberry.ID | None
    progress: int
    retries: int
    max_retries: int
    assignment_strategy: str | None
    assignment_score: float | None
    assignment_note: str | None = strawberry.field(
        description="Why the strategy chose so, when recorded (e.g. the neural fallback)."
    )
    duration_seconds: float | None
    version: int

    @strawberry.field(description="The agent the task is assigned to (agents read model).")
    async def agent(self, info: Info[Context, Any]) -> AgentNode | None:
        if self.agent_id is None:
            return None
        view = await info.context.loader(agents_by_id).load(str(self.agent_id))
        return AgentNode.from_view(view) if view is not None else None

    @classmethod
    def from_view(cls, view: TaskView) -> TaskNode:
        return cls(
            id=strawberry.ID(view.task_id),
            description=view.description,
            task_type=view.task_type,
            priority=view.priority,
            required_capabilities=list(view.required_capabilities),
            status=view.status,
            agent_id=_id(view.agent_id),
            swarm_id=_id(view.swarm_id),
            progress=view.progress,
            retries=view.retries,
            max_retries=view.max_retries,
            assignment_strategy=view.assignment_strategy,
            assignment_score=view.assignment_score,
            assignment_note=view.assignment_note,
            duration_seconds=view.duration_seconds,
            version=view.version,
        )

    @classmethod
    def from_aggregate(cls, task: Task) -> TaskNode:
        return cls(
            id=strawberry.ID(str(task.id)),
            description=task.description,
            task_type=task.task_type,
            priority=task.priority,
            required_capabilities=list(task.required_capabilities),
            status=task.status,
            agent_id=_id(task.agent_id),
            swarm_id=_id(task.swarm_id),
            progress=task.progress,
            retries=task.retries,
            max_retries=task.max_retries,
            assignment_strategy=task.assignment_strategy,
            assignment_score=task.assignment_score,
            assignment_note=task.assignment_note,
            duration_seconds=task.duration_seconds,
            version=task.version,
        )


@strawberry.type
class TaskConnection:
    nodes: list[TaskNode]
    page_info: PageInfo


@strawberry.type(description="The task as it is after the command, and where its events landed.")
class TaskPayload:
    task: TaskNode | None
    position: int | None
    errors: list[UserError]


async def _read(info: Info[Context, Any], at_least: int | None) -> Context:
    context: Context = info.context
    await context.read("task:read", info.field_name, "tasks", at_least)
    return context


@strawberry.type
class TaskQueries:
    @strawberry.field(description="One task, from the tasks read model.")
    async def task(
        self, info: Info[Context, Any], id: strawberry.ID, at_least: int | None = None
    ) -> TaskNode | None:
        context = await _read(info, at_least)
        view = await asyncio.to_thread(get_task, context.runtime.runner.engine, str(id))
        return TaskNode.from_view(view) if view is not None else None

    @strawberry.field(description="Tasks in id order; `first` is capped at 200.")
    async def tasks(
        self,
        info: Info[Context, Any],
        first: int = 50,
        after: str | None = None,
        status: str | None = None,
        priority: str | None = None,
        agent_id: strawberry.ID | None = None,
        swarm_id: strawberry.ID | None = None,
        at_least: int | None = None,
    ) -> TaskConnection:
        context = await _read(info, at_least)
        size = max(1, min(first, 200))
        views = await asyncio.to_thread(
            list_tasks,
            context.runtime.runner.engine,
            status=status,
            priority=priority,
            agent_id=agent_id,
            swarm_id=swarm_id,
            after=after,
            limit=size + 1,
        )
        page = views[:size]
        return TaskConnection(
            nodes=[TaskNode.from_view(v) for v in page],
            page_info=PageInfo(
                end_cursor=page[-1].task_id if page else None, has_next_page=len(views) > size
            ),
        )


async def _task_payload(info: Info[Context, Any], kind: type, data: dict[str, Any]) -> TaskPayload:
    store = info.context.runtime.swarmlog.store

    def present(result: CommandResult) -> TaskNode:
        return TaskNode.from_aggregate(store.load(Task, result.aggregate_id, copy=False))

    outcome = await dispatch(info, kind, data, present)
    if isinstance(outcome, list):
        return TaskPayload(task=None, position=None, errors=outcome)
    result, node = outcome
    return TaskPayload(task=node, position=result.position, errors=[])


@strawberry.type
class TaskMutations:
    @strawberry.mutation
    async def create_task(
        self,
        info: Info[Context, Any],
        description: str,
        task_type: str,
        priority: str | None = None,
        required_capabilities: list[str] | None = None,
        dependencies: list[strawberry.ID] | None = None,
        max_retries: int | None = None,
        timeout_seconds: float | None = None,
        swarm_id: strawberry.ID | None = None,
        idempotency_key: str | None = None,
    ) -> TaskPayload:
        data = {
            "description": description,
            "task_type": task_type,
            "priority": priority,
            "required_capabilities": required_capabilities,
            "dependencies": dependencies,
            "max_retries": max_retries,
            "timeout_seconds": timeout_seconds,
            "swarm_id": swarm_id,
            "idempotency_key": idempotency_key,
        }
        return await _task_payload(info, CreateTask, data)

    @strawberry.mutation(description="Assign to `agentId`, or let `strategy` choose in a swarm.")
    async def assign_task(
        self,
        info: Info[Context, Any],
        task_id: strawberry.ID,
        agent_id: strawberry.ID | None = None,
        strategy: str | None = None,
        swarm_id: strawberry.ID | None = None,
    ) -> TaskPayload:
        data = {
            "task_id": task_id,
            "agent_id": agent_id,
            "strategy": strategy,
            "swarm_id": swarm_id,
        }
        return await _task_payload(info, AssignTask, data)

    @strawberry.mutation
    async def start_task(self, info: Info[Context, Any], task_id: strawberry.ID) -> TaskPayload:
        return await _task_payload(info, StartTask, {"task_id": task_id})

    @strawberry.mutation
    async def report_task_progress(
        self, info: Info[Context, Any], task_id: strawberry.ID, percent: int
    ) -> TaskPayload:
        data = {"task_id": task_id, "percent": percent}
        return await _task_payload(info, ReportTaskProgress, data)

    @strawberry.mutation
    async def complete_task(
        self, info: Info[Context, Any], task_id: strawberry.ID, result: str = ""
    ) -> TaskPayload:
        return await _task_payload(info, CompleteTask, {"task_id": task_id, "result": result})

    @strawberry.mutation
    async def fail_task(
        self,
        info: Info[Context, Any],
        task_id: strawberry.ID,
        error: str = "",
        retryable: bool = True,
    ) -> TaskPayload:
        data = {"task_id": task_id, "error": error, "retryable": retryable}
        return await _task_payload(info, FailTask, data)

    @strawberry.mutation
    async def retry_task(self, info: Info[Context, Any], task_id: strawberry.ID) -> TaskPayload:
        return await _task_payload(info, RetryTask, {"task_id": task_id})

    @strawberry.mutation
    async def cancel_task(
        self, info: Info[Context, Any], task_id: strawberry.ID, reason: str = ""
    ) -> TaskPayload:
        return await _task_payload(info, CancelTask, {"task_id": task_id, "reason": reason})

    @strawberry.mutation(description="Mark a running task as having run past its timeout.")
    async def time_out_task(self, info: Info[Context, Any], task_id: strawberry.ID) -> TaskPayload:
        return await _task_payload(info, TimeOutTask, {"task_id": task_id})
