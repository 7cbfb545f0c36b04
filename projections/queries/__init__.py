"""Reading the read models: frozen DTOs and query functions over the views, one module
per read model. Each function takes a SQLAlchemy Connection or Engine."""

from projections.queries.agents import AgentView, get_agent, list_agents
from projections.queries.audit import AuditCursor, AuditEntry, audit_log
from projections.queries.expertise import ExpertiseView, agent_expertise, expertise_score
from projections.queries.metrics import MetricPoint, SwarmMetrics, swarm_metrics
from projections.queries.proposals import (
    ProposalView,
    ProposalWithVotes,
    VoteView,
    get_proposal,
    list_proposals,
)
from projections.queries.swarms import (
    MemberView,
    SwarmMembers,
    SwarmView,
    get_swarm,
    list_swarms,
    swarm_members,
)
from projections.queries.tasks import (
    TaskDependency,
    TaskView,
    get_task,
    list_tasks,
    task_dependencies,
    task_dependents,
)

__all__ = [
    "AgentView",
    "AuditCursor",
    "AuditEntry",
    "ExpertiseView",
    "MemberView",
    "MetricPoint",
    "ProposalView",
    "ProposalWithVotes",
    "SwarmMembers",
    "SwarmMetrics",
    "SwarmView",
    "TaskDependency",
    "TaskView",
    "VoteView",
    "agent_expertise",
    "audit_log",
    "expertise_score",
    "get_agent",
    "get_proposal",
    "get_swarm",
    "get_task",
    "list_agents",
    "list_proposals",
    "list_swarms",
    "list_tasks",
    "swarm_members",
    "swarm_metrics",
    "task_dependencies",
    "task_dependents",
]
