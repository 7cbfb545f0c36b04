"""The log tracker's rows read back: the JSON-ready rows it keeps (see
:mod:`adapters.neural.tracker`) turned into agent facts and examples."""

from __future__ import annotations

from typing import Any

from adapters.neural.features import (
    AgentFacts,
    Candidate,
    Example,
    SwarmFacts,
    TaskFacts,
    agent_type_index,
    duration_bucket,
    recent_success,
)

Row = dict[str, Any]


def agent_facts_row(agent: Row) -> Row:
    """The facts of a tracked agent, as an attempt row keeps them."""
    return {
        "agent_type": agent["agent_type"],
        "capabilities": list(agent["capabilities"]),
        "load": agent["load"],
        "max_load": agent["max_load"],
        "recent_success": recent_success(agent["recent"]),
        "attempts": agent["attempts"],
    }


def facts_from_row(row: Row) -> AgentFacts:
    return AgentFacts(
        agent_type=row["agent_type"],
        capabilities=tuple(row["capabilities"]),
        load=int(row["load"]),
        max_load=int(row["max_load"]),
        recent_success=float(row["recent_success"]),
        attempts=int(row["attempts"]),
    )


def example_of(
    position: int, task_id: str, task: Row, attempt: Row, outcome: int | None, seconds: float | None
) -> Example:
    """The example of an attempt that ended at ``position`` (see :class:`Example`)."""
    agent = facts_from_row(attempt["agent"])
    return Example(
        position=position,
        task_id=task_id,
        agent_id=attempt["agent_id"],
        task=TaskFacts(task["task_type"], task["priority"], tuple(task["required_capabilities"])),
        agent=agent,
        swarm=SwarmFacts(attempt["swarm"]["topology"], int(attempt["swarm"]["size"])),
        outcome=outcome,
        duration_seconds=seconds,
        duration_bucket=None if seconds is None else duration_bucket(seconds),
        coordination=agent_type_index(agent.agent_type) if outcome == 1 else None,
        candidates=tuple(
            Candidate(c["agent_id"], c["name"], facts_from_row(c["agent"]))
            for c in attempt["candidates"]
        ),
        swarm_id=attempt.get("swarm_id", ""),
    )
