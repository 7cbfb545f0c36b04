"""Every error a GraphQL response carries has a stable code.

Refusals already carry theirs (see errors.py). What else can go wrong is either the
request's fault (a document that does not parse or validate: ``BAD_REQUEST``), a
database out of reach (``UNAVAILABLE``: try again), or a fault of the server
(``INTERNAL``): its message is replaced, since it may show internals, and it is
logged with its traceback and counted, to be found and fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog
from eventsourcing.persistence import PersistenceError
from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import SchemaExtension

log = structlog.get_logger(__name__)

UNREACHABLE = (PersistenceError, DBAPIError, PoolTimeout, ConnectionError, TimeoutError)


def coded(error: GraphQLError) -> GraphQLError:
    if (error.extensions or {}).get("code"):
        return error
    original = error.original_error
    if original is None:
        code, message = "BAD_REQUEST", error.message
    elif isinstance(original, UNREACHABLE):
        code, message = "UNAVAILABLE", "a database cannot be reached; try again"
    else:
        log.error("graphql.internal_error", path=error.path, exc_info=original)
        code, message = "INTERNAL", "the server failed to answer; it has been logged"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions={**(error.extensions or {}), "code": code},
    )


class CodedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result: Any = context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [coded(error) for error in result.errors]
            metrics = getattr(getattr(context.context, "runtime", None), "metrics", None)
            if metrics is not None:
                for error in result.errors:
                    code = error.extensions["code"]
                    if code in ("BAD_REQUEST", "UNAVAILABLE", "INTERNAL"):
                        metrics.graphql_errors.labels(code).inc()
        if context.pre_execution_errors:
            context.pre_execution_errors = [coded(e) for e in context.pre_execution_errors]
