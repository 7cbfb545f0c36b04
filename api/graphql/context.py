"""The context of one GraphQL operation: the process runtime and who is asking."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from strawberry.fastapi import BaseContext

from adapters.auth import Principal, Unauthenticated, authorise
from api.runtime import Runtime
from domain.errors import DomainError

VISIBILITY_TIMEOUT = 5.0
"""How long a query waits for the read models to reach a position it asked for."""


class NotYetVisible(DomainError):
    code = "NOT_YET_VISIBLE"


@dataclass
class Context(BaseContext):
    runtime: Runtime
    authorization: str | None
    _principal: Principal | None = field(default=None, init=False)

    def principal(self) -> Principal:
        """Who sent the request, from its bearer token (UNAUTHENTICATED otherwise)."""
        if self._principal is None:
            scheme, _, token = (self.authorization or "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("send an 'Authorization: Bearer <token>' header")
            self._principal = self.runtime.tokens.verify(token.strip())
        return self._principal

    def require(self, permission: str) -> Principal:
        """The principal, if it holds ``permission`` (FORBIDDEN otherwise)."""
        principal = self.principal()
        authorise(principal, permission)
        return principal

    async def visible(self, projection: str, position: int | None) -> None:
        """Wait until ``projection`` has applied the log up to ``position`` (read your
        writes); NOT_YET_VISIBLE after a bounded wait."""
        if position is None:
            return
        deadline = time.monotonic() + VISIBILITY_TIMEOUT
        runner = self.runtime.runner
        while await asyncio.to_thread(runner.checkpoint, projection) < position:
            if time.monotonic() > deadline:
                raise NotYetVisible(
                    f"the {projection} read model has not reached position {position} "
                    f"after {VISIBILITY_TIMEOUT:g} s; try again",
                    position=position,
                )
            await asyncio.sleep(0.01)
