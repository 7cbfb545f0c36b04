"""Running a command from a mutation: authorise, validate, handle, count."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import UserError
from application.bus import CommandResult
from application.commands import Command, parse_command
from domain.errors import DomainError


async def dispatch(
    info: Info[Context, Any], kind: type[Command], data: dict[str, Any]
) -> tuple[CommandResult | None, list[UserError]]:
    """The command's result, or the typed errors of its refusal (nothing written then)."""
    context = info.context
    metrics = context.runtime.metrics
    name = kind.__name__
    started = time.perf_counter()
    try:
        principal = await context.require(kind.permission, info.field_name)
        command = parse_command(kind, {k: v for k, v in data.items() if v is not None})
        result = await asyncio.to_thread(
            context.runtime.swarmlog.handle, command, actor=principal.subject
        )
    except DomainError as error:
        metrics.commands.labels(name, error.code).inc()
        metrics.graphql_errors.labels(error.code).inc()
        return None, [UserError.of(error)]
    metrics.commands.labels(name, "ok").inc()
    metrics.command_seconds.labels(name).observe(time.perf_counter() - started)
    return result, []
