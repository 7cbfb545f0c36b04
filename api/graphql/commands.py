"""Running a command from a mutation: authorise, validate, handle, count."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import UserError
from application.bus import CommandResult
from application.commands import Command, parse_command
from domain.errors import DomainError

T = TypeVar("T")


async def dispatch(
    info: Info[Context, Any],
    kind: type[Command],
    data: dict[str, Any],
    present: Callable[[CommandResult], T],
) -> tuple[CommandResult, T] | list[UserError]:
    """The command's result and ``present(result)`` (the entity after it, read in the
    same worker thread), or the typed errors of its refusal (nothing written then)."""
    context = info.context
    metrics = context.runtime.metrics
    name = kind.__name__
    started = time.perf_counter()
    try:
        principal = await context.require(kind.permission, info.field_name)
        command = parse_command(kind, {k: v for k, v in data.items() if v is not None})
        handle = context.runtime.swarmlog.handle

        def run() -> tuple[CommandResult, T]:
            result = handle(command, actor=principal.subject)
            return result, present(result)

        outcome = await asyncio.to_thread(run)
    except DomainError as error:
        metrics.commands.labels(name, error.code).inc()
        metrics.graphql_errors.labels(error.code).inc()
        return [UserError.of(error)]
    metrics.commands.labels(name, "ok").inc()
    metrics.command_seconds.labels(name).observe(time.perf_counter() - started)
    return outcome
