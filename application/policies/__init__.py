"""Policies: the cross-aggregate consequences of events, run like projections."""

from application.policies.reactions import ALL_POLICIES, Policy
from application.policies.runner import PolicyRunner

__all__ = ["ALL_POLICIES", "Policy", "PolicyRunner"]
