"""Every error a GraphQL response carries has a stable code.

Refusals already carry theirs (see errors.py). What else can go wrong is either the
request's fault (a document that does not parse or validate: ``BAD_REQUEST``), a
database out of reach (``UNAVAILABLE``: try again), or a fault of the server
(``INTERNAL``): its message is replaced, since it may show internals, and it is
logged with its traceback and counted, to be found and fixed.
"""

from __future__ import annotations

import strawberry
import structlog
from eventsourcing.persistence import PersistenceError
from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.types import ExecutionContext

log = structlog.get_logger(__name__)

UNREACHABLE = (PersistenceError, DBAPIError, PoolTimeout, ConnectionError, TimeoutError)


def code(error: GraphQLError) -> str:
    """Give ``error`` its stable code, in place (masking a server fault's message); the
    code it has or was given."""
    extensions = error.extensions or {}
    if extensions.get("code"):
        return str(extensions["code"])
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        found = "BAD_REQUEST"  # a document that does not parse or validate
    elif isinstance(original, UNREACHABLE):
        log.warning("graphql.unavailable", path=error.path, error=repr(original))
        found = "UNAVAILABLE"
        error.message = "a database cannot be reached; try again"
    else:
        log.error("graphql.internal_error", path=error.path, exc_info=original)
        found = "INTERNAL"
        error.message = "the server failed to answer; it has been logged"
    error.extensions = {**extensions, "code": found}
    return found


class CodedSchema(strawberry.Schema):
    """The schema, with every error it reports coded (see the module docstring)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context = execution_context.context if execution_context is not None else None
        metrics = getattr(getattr(context, "runtime", None), "metrics", None)
        for error in errors:
            found = code(error)
            if metrics is not None and found in ("BAD_REQUEST", "UNAVAILABLE", "INTERNAL"):
                metrics.graphql_errors.labels(found).inc()
