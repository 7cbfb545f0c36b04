"""What the hidden ground truth sees of an assignment: the agent's and the task's features.

Shared by the model (:mod:`~application.simulation.ground_truth`), which turns
them into a success probability and a duration, and the workload plan
(:mod:`~application.simulation.workload`), whose specs describe themselves in them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentFeatures:
    """What the ground truth knows about a candidate agent at assignment time."""

    agent_type: str
    capabilities: tuple[str, ...]
    load_fraction: float = 0.0


@dataclass(frozen=True)
class TaskFeatures:
    """What the ground truth knows about a task."""

    task_type: str
    required_capabilities: tuple[str, ...]
    priority: str = "normal"
