"""Fixtures of the integration suite: fresh stores on demand, on each event store."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap
from tests.conftest import Clock, postgres_settings, sqlite_settings

MakeSettings = Callable[..., Settings]
MakeApp = Callable[..., Swarmlog]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The kind of event store; PostgreSQL is skipped (or failed under CI) when absent."""
    if request.param == "postgres":
        request.getfixturevalue("postgres")
    return str(request.param)


@pytest.fixture
def fresh_settings(backend: str, tmp_path: Path) -> Iterator[MakeSettings]:
    """Settings of a new, empty store of the backend per call (overrides as keywords)."""
    import psycopg

    from tests.conftest import PG

    schemas: list[str] = []
    numbers = itertools.count()

    def make(**overrides: Any) -> Settings:
        if backend == "sqlite":
            base = sqlite_settings(tmp_path / f"store{next(numbers)}")
        else:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
                conn.execute(f"CREATE SCHEMA {schema}")
            schemas.append(schema)
            base = postgres_settings(schema)
        return base.model_copy(update=overrides)

    yield make
    for schema in schemas:
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def make_app(fresh_settings: MakeSettings, clock: Clock) -> Iterator[MakeApp]:
    """Build an app on the given settings (default: a fresh store); all closed afterwards."""
    apps: list[Swarmlog] = []

    def make(settings: Settings | None = None, *, inline_policies: bool = True) -> Swarmlog:
        app = bootstrap(settings or fresh_settings(), inline_policies=inline_policies, clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
