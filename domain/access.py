"""The record of a request the API refused to let through: who, what, and why.

Authorisation refusals (no valid token, or a role without the permission) are
security facts an operator audits, so they go to the log like everything else and
reach the audit log through its projection. Each refusal is an aggregate of its
own, so recording one never contends with another. Refusals of the domain
(validation, invalid transitions, ...) are not recorded: a rejected command writes
nothing.
"""

from __future__ import annotations

from eventsourcing.domain import event

from domain.base import SwarmlogAggregate

MAX_FIELD = 200
"""Longest operation, permission or reason kept: what a caller sent is cut, not trusted."""


def _cut(text: str) -> str:
    return text[:MAX_FIELD]


class AccessRefusal(SwarmlogAggregate):
    """One refused request. The event's ``actor`` is the token's subject, or
    ``anonymous`` when there was no valid token."""

    class Recorded(SwarmlogAggregate.Created):
        code: str
        permission: str
        operation: str
        reason: str

    @classmethod
    def record(cls, code: str, permission: str, operation: str, reason: str) -> AccessRefusal:
        return cls(
            code=code, permission=_cut(permission), operation=_cut(operation), reason=_cut(reason)
        )

    @event(Recorded)
    def __init__(self, code: str, permission: str, operation: str, reason: str) -> None:
        self.code = code
        self.permission = permission
        self.operation = operation
        self.reason = reason
