"""The context of one GraphQL operation: the process runtime and who is asking."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from adapters.auth import Forbidden, Principal, Unauthenticated, authorise
from api.graphql.errors import query_error
from api.runtime import Runtime
from domain.access import AccessRefusal
from domain.base import EventContext, event_context
from domain.errors import DomainError

ANONYMOUS = "anonymous"


class NotYetVisible(DomainError):
    code = "NOT_YET_VISIBLE"


@dataclass
class Context(BaseContext):
    runtime: Runtime
    authorization: str | None
    _principal: Principal | None = field(default=None, init=False)
    _loaders: dict[Any, DataLoader[str, Any]] = field(default_factory=dict, init=False)

    def loader(self, fetch: Callable[[Any, list[str]], Mapping[str, Any]]) -> DataLoader[str, Any]:
        """A DataLoader of this operation over a batch query of the read models
        (``fetch(engine, ids) -> {id: value}``): the fields of a whole page that need
        it are answered by one query, not one each."""
        found = self._loaders.get(fetch)
        if found is None:
            engine = self.runtime.runner.engine

            async def load(keys: list[str]) -> list[Any]:
                rows = await asyncio.to_thread(fetch, engine, keys)
                return [rows.get(key) for key in keys]

            found = self._loaders[fetch] = DataLoader(load_fn=load)
        return found

    def principal(self) -> Principal:
        """Who sent the request, from its bearer token (UNAUTHENTICATED otherwise)."""
        if self._principal is None:
            scheme, _, token = (self._authorization() or "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated(
                    "send an 'Authorization: Bearer <token>' header", reason="missing"
                )
            self._principal = self.runtime.tokens.verify(token.strip())
        return self._principal

    def _authorization(self) -> str | None:
        """The request's Authorization header; over a websocket, the ``Authorization``
        of the connection_init payload (browsers cannot set headers on websockets)."""
        if self.authorization:
            return self.authorization
        params = self.connection_params
        if isinstance(params, dict):
            value = params.get("Authorization", params.get("authorization"))
            if isinstance(value, str):
                return value
        return None

    async def require(self, permission: str, operation: str) -> Principal:
        """The principal, if it holds ``permission``; otherwise the refusal is recorded
        in the log (the audit trail) and raised: UNAUTHENTICATED or FORBIDDEN."""
        try:
            principal = self.principal()
            authorise(principal, permission)
        except (Unauthenticated, Forbidden) as error:
            await asyncio.to_thread(self._record_refusal, error, permission, operation)
            raise
        return principal

    def _record_refusal(self, error: DomainError, permission: str, operation: str) -> None:
        subject = self._principal.subject if self._principal is not None else ANONYMOUS
        correlation = str(uuid.uuid4())
        token = event_context.set(
            EventContext(actor=subject, correlation_id=correlation, causation_id=correlation)
        )
        try:
            refusal = AccessRefusal.record(
                error.code, permission, operation, str(error.details.get("reason", error.message))
            )
            self.runtime.swarmlog.store.save(refusal)
        finally:
            event_context.reset(token)
        self.runtime.feed.notify()
        self.runtime.metrics.refusals.labels(error.code).inc()

    async def read(
        self,
        permission: str,
        operation: str,
        projection: str | None = None,
        at_least: int | None = None,
    ) -> Principal:
        """Authorise a query and wait for ``projection`` to reach ``at_least``; a
        refusal becomes a GraphQL error carrying its code."""
        try:
            principal = await self.require(permission, operation)
            if projection is not None:
                await self.visible(projection, at_least)
        except DomainError as error:
            raise self.error(error) from None
        return principal

    def error(self, error: DomainError) -> GraphQLError:
        """A query's refusal as a GraphQL error, counted by code."""
        self.runtime.metrics.graphql_errors.labels(error.code).inc()
        return query_error(error)

    async def visible(self, projection: str, position: int | None) -> None:
        """Wait until ``projection`` has applied the log up to ``position`` (read your
        writes); NOT_YET_VISIBLE after a bounded wait."""
        if position is None:
            return
        wait = self.runtime.settings.read_wait_seconds
        deadline = time.monotonic() + wait
        runner = self.runtime.runner
        while await asyncio.to_thread(runner.checkpoint, projection) < position:
            if time.monotonic() > deadline:
                raise NotYetVisible(
                    f"the {projection} read model has not reached position {position} "
                    f"after {wait:g} s; try again",
                    position=position,
                )
            await asyncio.sleep(0.01)


def operation_of(info: Any) -> str:
    """The name of the field being resolved (what a refusal records as the operation)."""
    return str(info.field_name)


def selects(info: Info[Context, Any], *path: str) -> bool:
    """Whether the operation asks, under the field being resolved, for the field at
    ``path`` (schema names, e.g. ``("agent", "swarmId")``), through fragments too."""
    level: list[Selection] = list(info.selected_fields)
    for name in path:
        found: list[Selection] = []
        for selection in _fields(level):
            found.extend(_fields(selection.selections))
        level = [s for s in found if isinstance(s, SelectedField) and s.name == name]
        if not level:
            return False
    return True


def _fields(selections: list[Selection]) -> list[SelectedField]:
    """The fields of ``selections``, those of fragments spread or inlined included."""
    flat: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            flat.append(selection)
        else:
            flat.extend(_fields(selection.selections))
    return flat
