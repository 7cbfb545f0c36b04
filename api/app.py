"""The FastAPI application: GraphQL at /graphql, health, readiness and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from adapters.settings import Settings
from api.graphql.context import Context
from api.graphql.schema import schema
from api.limits import BodyLimit
from api.runtime import Runtime, start


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API; it starts its runtime (and projection worker) in its lifespan."""
    state: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["runtime"] = runtime or start(settings)
        try:
            yield
        finally:
            if runtime is None:
                state["runtime"].stop()

    async def context(connection: HTTPConnection) -> Context:
        authorization = connection.headers.get("authorization")
        return Context(runtime=state["runtime"], authorization=authorization)

    app = FastAPI(title="swarmlog", lifespan=lifespan)
    app.add_middleware(BodyLimit)
    graphql: GraphQLRouter[Any, Any] = GraphQLRouter(
        schema,
        context_getter=context,
        graphql_ide="graphiql",
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )
    app.include_router(graphql, prefix="/graphql")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        checks = state["runtime"].ready()
        return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        runtime_ = state["runtime"]
        for row in runtime_.runner.status():
            runtime_.metrics.projection_lag.labels(row["name"]).set(row["lag"])
        return Response(generate_latest(runtime_.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
