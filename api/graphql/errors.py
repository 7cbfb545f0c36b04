"""Errors as GraphQL sees them: typed errors in payloads, coded errors for queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from graphql import GraphQLError

from domain.errors import DomainError, ValidationError


@strawberry.type(description="Why a mutation changed nothing; `code` is stable.")
class UserError:
    code: str
    message: str
    field: str | None = None

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(code=error.code, message=error.message, field=error.details.get("field"))


def query_error(error: DomainError) -> GraphQLError:
    """A query's refusal, with its code in the error's extensions."""
    extensions: dict[str, Any] = {"code": error.code}
    return GraphQLError(error.message, extensions=extensions)


def parse_id(value: Any, field: str) -> UUID:
    """An id a caller sent, as a UUID (VALIDATION naming ``field`` otherwise)."""
    try:
        return UUID(str(value))
    except ValueError:
        raise ValidationError(f"{str(value)[:100]!r} is not an id", field=field) from None
