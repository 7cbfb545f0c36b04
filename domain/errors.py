"""Domain errors: every refusal carries a stable, machine-readable code."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command was refused. ``code`` is stable; ``message`` is for people."""

    code = "DOMAIN"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ValidationError(DomainError):
    code = "VALIDATION"


class NotFound(DomainError):
    code = "NOT_FOUND"


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"


class Conflict(DomainError):
    code = "CONFLICT"


class CapacityExceeded(DomainError):
    code = "CAPACITY_EXCEEDED"


class NotAllowed(DomainError):
    """The rule forbids it whatever the state (a non-participant voting, say)."""

    code = "NOT_ALLOWED"


class DependencyCycle(DomainError):
    code = "DEPENDENCY_CYCLE"


class RetriesExhausted(DomainError):
    code = "RETRIES_EXHAUSTED"


class NotParticipant(DomainError):
    code = "NOT_PARTICIPANT"


class AlreadyVoted(DomainError):
    code = "ALREADY_VOTED"


class ProposalClosed(DomainError):
    """The proposal has been decided or has expired: no more votes."""

    code = "PROPOSAL_CLOSED"


class IdempotencyKeyReused(DomainError):
    """The key was first used for a different command."""

    code = "IDEMPOTENCY_KEY_REUSED"


class Unavailable(DomainError):
    """Not a refusal of the domain: a database could not be reached. Nothing is known
    to have been written; sending the command again with its idempotency key is safe."""

    code = "UNAVAILABLE"
