"""Pure rules for the task dependency graph.

The graph maps a task id to the ids of the tasks it depends on. It must stay
acyclic: a task may never (transitively) depend on itself.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from uuid import UUID

from domain.errors import DependencyCycle


def find_cycle(
    graph: Mapping[UUID, Iterable[UUID]],
    node: UUID,
    dependencies: Iterable[UUID],
) -> list[UUID] | None:
    """Return the cycle that adding the edges node -> dependencies would close.

    The path starts and ends with ``node`` (``[node, node]`` for a
    self-dependency), following dependency edges; None when no cycle forms.
    Edges already in ``graph`` for ``node`` are kept alongside the new ones.
    """
    deps = list(dependencies)
    if node in deps:
        return [node, node]
    parent: dict[UUID, UUID] = {}
    stack: list[UUID] = []
    for dep in deps:
        if dep not in parent:
            parent[dep] = node
            stack.append(dep)
    while stack:
        current = stack.pop()
        for nxt in graph.get(current, ()):
            if nxt == node:
                chain = [current]
                while parent[chain[-1]] != node:
                    chain.append(parent[chain[-1]])
                return [node, *reversed(chain), node]
            if nxt not in parent:
                parent[nxt] = current
                stack.append(nxt)
    return None


def ensure_acyclic(
    graph: Mapping[UUID, Iterable[UUID]],
    node: UUID,
    dependencies: Iterable[UUID],
) -> None:
    """Raise :class:`DependencyCycle` if node -> dependencies would close a cycle."""
    cycle = find_cycle(graph, node, dependencies)
    if cycle is not None:
        raise DependencyCycle(
            "the dependencies would create a cycle: " + " -> ".join(str(step) for step in cycle),
            task_id=str(node),
            cycle=[str(step) for step in cycle],
        )


def open_dependencies(dependencies: Iterable[UUID], completed: Container[UUID]) -> list[UUID]:
    """The dependencies not yet completed, sorted."""
    return sorted({d for d in dependencies if d not in completed})
