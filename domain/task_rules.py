"""The checks on a new task's capabilities and dependencies (see ``Task.create``)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.errors import ValidationError
from domain.validation import task_ids


def check_required_capabilities(capabilities: Iterable[str]) -> list[str]:
    """At most 50 strings of 1 to 64 characters; returned lowercased, stripped,
    deduplicated and sorted. Unlike an agent's, the list may be empty."""
    caps = list(capabilities)
    if len(caps) > 50 or not all(isinstance(c, str) and 1 <= len(c.strip()) <= 64 for c in caps):
        raise ValidationError(
            "required_capabilities must be at most 50 strings of 1 to 64 characters",
            field="required_capabilities",
        )
    return sorted({c.strip().lower() for c in caps})


def check_dependencies(
    dependencies: Iterable[UUID], open_dependencies: Iterable[UUID]
) -> tuple[list[UUID], list[UUID]]:
    """At most 100 distinct task ids, and the still open ones among them; both sorted."""
    deps = task_ids(dependencies, "dependencies")
    if len(deps) > 100:
        raise ValidationError("a task may have at most 100 dependencies", field="dependencies")
    waiting = task_ids(open_dependencies, "open_dependencies")
    if not set(waiting) <= set(deps):
        raise ValidationError(
            "open_dependencies must be among the dependencies",
            field="open_dependencies",
            unknown=[str(d) for d in sorted(set(waiting) - set(deps))],
        )
    return deps, waiting
