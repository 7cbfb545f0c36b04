"""Every read model of swarmlog, in one list (what a runner catches up)."""

from __future__ import annotations

from projections.agents import AgentsProjection
from projections.audit import AuditProjection
from projections.expertise import ExpertiseProjection
from projections.metrics import SwarmMetricsProjection
from projections.projection import Projection
from projections.proposals import ProposalsProjection
from projections.swarms import SwarmsProjection
from projections.tasks import TasksProjection


def all_projections() -> list[Projection]:
    """A fresh instance of every projection."""
    return [
        AgentsProjection(),
        TasksProjection(),
        SwarmsProjection(),
        ProposalsProjection(),
        ExpertiseProjection(),
        AuditProjection(),
        SwarmMetricsProjection(),
    ]
