"""`swarmlog serve`: the GraphQL API with the projection worker in the same process."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from adapters.auth import TokenService
from adapters.settings import Settings
from api.app import create_app

console = Console()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Run the projection worker in this process (default: SWARMLOG_SERVE_WORKER).",
        ),
    ] = None,
) -> None:
    """Serve the API (GraphiQL in the browser) on the configured stores."""
    settings = Settings()
    if worker is not None:
        settings = settings.model_copy(update={"serve_worker": worker})
    token = TokenService(settings).issue("local-admin", "admin")
    console.print(f"GraphiQL: [bold]http://{host}:{port}/graphql[/]")
    console.print("admin token (send as 'Authorization: Bearer <token>'):")
    console.print(token, soft_wrap=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
