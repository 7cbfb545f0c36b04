"""A real server on a free loopback port, and a small GraphQL client for it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from adapters.auth import TokenService
from adapters.settings import Settings
from api.app import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Api:
    url: str
    settings: Settings
    tokens: TokenService

    def token(self, role: str) -> str:
        return self.tokens.issue(f"test-{role}", role)

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str | None = "admin"
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(role)}"} if role else {}
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(
        event_store="sqlite",
        sqlite_path=tmp_path / "events.db",
        read_model_url=f"sqlite:///{tmp_path / 'read_models.db'}",
    )
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
    yield Api(f"http://127.0.0.1:{port}", settings, TokenService(settings))
    server.should_exit = True
    thread.join(timeout=30)
