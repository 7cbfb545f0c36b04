"""Fixtures shared by every test: the wired application on each event store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def postgres_required() -> bool:
    return os.environ.get("CI") == "true" or bool(os.environ.get("SWARMLOG_REQUIRE_POSTGRES"))


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(connect_timeout=3, **PG):
            return None
    except Exception as error:  # any failure to connect means: not here
        return f"PostgreSQL at {PG['host']}:{PG['port']} is not reachable ({error})"


@pytest.fixture(scope="session")
def postgres() -> dict[str, object]:
    """Connection facts for the real PostgreSQL; skipped with the reason when absent
    (under CI it must be there, and its absence fails)."""
    reason = postgres_reachable()
    if reason:
        if postgres_required():
            pytest.fail(f"{reason}; CI requires it", pytrace=False)
        pytest.skip(reason)
    return PG


@pytest.fixture
def postgres_schema(postgres: dict[str, object]) -> Iterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(autocommit=True, **postgres) as conn:  # type: ignore[arg-type]
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(autocommit=True, **postgres) as conn:  # type: ignore[arg-type]
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(event_store="sqlite", sqlite_path=tmp_path / "events.db", snapshot_interval=5)


def postgres_settings(schema: str) -> Settings:
    return Settings(
        event_store="postgres",
        postgres_dbname=str(PG["dbname"]),
        postgres_schema=schema,
        snapshot_interval=5,
    )


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgres"])
def swarmlog(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Swarmlog]:
    """The wired application on each event store (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        settings = sqlite_settings(tmp_path)
    else:
        settings = postgres_settings(request.getfixturevalue("postgres_schema"))
    app = bootstrap(settings, clock=clock)
    yield app
    app.close()


def postgres_read_model_url(schema: str) -> str:
    """A read-model URL whose tables live in ``schema``."""
    return (
        f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"
        f"?options=-csearch_path%3D{schema}"
    )


@pytest.fixture(params=["sqlite", "postgres"])
def read_model_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty read-model database of each kind (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'read_models.db'}"
    return postgres_read_model_url(request.getfixturevalue("postgres_schema"))
