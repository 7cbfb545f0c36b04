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
from api.graphql.scalars import Position
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
        return cls._of(view.task_id, view)

    @classmethod
    def from_aggregate(cls, task: Task) -> TaskNode:
        return cls._of(task.id, task)

    @classmethod
    def _of(cls, task_id: Any, source: Any) -> TaskNode:
        """From a read-model row or the aggregate: both name their fields alike."""
        return cls(
            id=strawberry.ID(str(task_id)),
            required_capabilities=list(source.required_capabilities),
            agent_id=_id(source.agent_id),
            swarm_id=_id(source.swarm_id),
            **{name: getattr(source, name) for name in _SAME},
        )


_SAME = (
    "description",
    "task_type",
    "priority",
    "status",
    "progress",
    "retries",
    "max_retries",
    "assignment_strategy",
    "assignment_score",
    "assignment_note",
    "duration_seconds",
    "version",
)
"""The fields a task node takes as they are from its source."""


@strawberry.type
class TaskConnection:
    nodes: list[TaskNode]
    page_info: PageInfo


@strawberry.type(description="The task as it is after the command, and where its events landed.")
class TaskPayload:
    task: TaskNode | None
    position: Position | None
    errors: list[UserError]


async def _read(info: Info[Context, Any], at_least: Position | None) -> Context:
    context: Context = info.context
    await context.read("task:read", info.field_name, "tasks", at_least)
    return context


@strawberry.type
class TaskQueries:
    @strawberry.field(description="One task, from the tasks read model.")
    async def task(
        self, info: Info[Context, Any], id: strawberry.ID, at_least: Position | None = None
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
        at_least: Position | None = None,
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
    return TaskPayload(task=node, position=Position(result.position), errors=[])


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
