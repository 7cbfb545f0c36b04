"""A real API server on a free loopback port, and a small GraphQL client for it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from adapters.auth import TokenService
from adapters.settings import Settings
from api.app import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def embedded_settings(directory: Path) -> Settings:
    """The embedded default (SQLite events and read models) in ``directory``."""
    return Settings(
        event_store="sqlite",
        sqlite_path=directory / "events.db",
        read_model_url=f"sqlite:///{directory / 'read_models.db'}",
        neural_model_dir=directory / "models",
    )


@dataclass
class Api:
    url: str
    settings: Settings
    tokens: TokenService

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def token(self, role: str) -> str:
        return self.tokens.issue(f"test-{role}", role)

    def post(
        self, query: str, variables: dict[str, Any] | None = None, *, headers: dict[str, str]
    ) -> httpx.Response:
        return httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str | None = "admin"
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(role)}"} if role else {}
        response = self.post(query, variables, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def running_api(settings: Settings) -> Iterator[Api]:
    """The app served by uvicorn in a thread of this process until the block ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the server did not start"
    try:
        yield Api(f"http://127.0.0.1:{port}", settings, TokenService(settings))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
