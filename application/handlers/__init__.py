"""Every command's handler, one module per aggregate."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from application.assignment import AssignmentStrategy
from application.bus import Handler
from application.commands import AssignTask, Command
from application.handlers import agents, neural, policies, proposals, swarms, tasks


def all_handlers(
    strategies: Mapping[str, AssignmentStrategy],
) -> dict[type[Command], Handler]:
    return {
        **agents.HANDLERS,
        **swarms.HANDLERS,
        **tasks.HANDLERS,
        AssignTask: partial(tasks.assign_task, strategies=strategies),
        **proposals.HANDLERS,
        **policies.HANDLERS,
        **neural.HANDLERS,
    }
