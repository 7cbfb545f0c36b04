"""The persistence contract's stores: SQLite and PostgreSQL always, EventStoreDB when
``EVENTSTOREDB_URI`` names one (see docs/eventstoredb.md)."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap
from tests.conftest import PG, Clock, postgres_settings, sqlite_settings

ESDB_HOW = (
    "start one (docker run --rm -p 2113:2113 docker.kurrent.io/kurrent-latest/kurrentdb:latest "
    "--insecure), then EVENTSTOREDB_URI='esdb://localhost:2113?tls=false' "
    ".venv/bin/pytest tests/contract (docs/eventstoredb.md)"
)
ESDB_SKIP = f"EVENTSTOREDB_URI is not set: {ESDB_HOW}"
ESDB_IMPORT_SKIP = (
    "EVENTSTOREDB_IMPORT_URI is not set: an import needs a second, empty EventStoreDB "
    "(streams keep their ids, so the first one already holds them)"
)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "eventstoredb"]

MakeApp = Callable[..., Swarmlog]


def esdb_settings(uri: str) -> Settings:
    return Settings(event_store="eventstoredb", eventstoredb_uri=uri, snapshot_interval=5)


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """The kind of event store; PostgreSQL is skipped (failed under CI) when absent,
    EventStoreDB skipped, with how to run it, when EVENTSTOREDB_URI is not set."""
    if request.param == "postgres":
        request.getfixturevalue("postgres")
    if request.param == "eventstoredb" and not os.environ.get("EVENTSTOREDB_URI"):
        pytest.skip(ESDB_SKIP)
    return str(request.param)


@pytest.fixture
def fresh_store(store_kind: str, tmp_path: Path) -> Iterator[Callable[..., Settings]]:
    """Settings of a new store of the kind per call: empty for SQLite and PostgreSQL;
    for EventStoreDB the server named (``empty=True``: EVENTSTOREDB_IMPORT_URI)."""
    import psycopg

    schemas: list[str] = []
    numbers = itertools.count()

    def make(*, empty: bool = False, **overrides: Any) -> Settings:
        if store_kind == "sqlite":
            base = sqlite_settings(tmp_path / f"store{next(numbers)}")
        elif store_kind == "postgres":
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
                conn.execute(f"CREATE SCHEMA {schema}")
            schemas.append(schema)
            base = postgres_settings(schema)
        else:
            uri = os.environ.get("EVENTSTOREDB_IMPORT_URI") if empty else None
            if empty and not uri:
                pytest.skip(ESDB_IMPORT_SKIP)
            base = esdb_settings(uri or os.environ["EVENTSTOREDB_URI"])
        return base.model_copy(update=overrides)

    yield make
    for schema in schemas:
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def make_app(fresh_store: Callable[..., Settings]) -> Iterator[MakeApp]:
    """An app on the given settings (default: a fresh store); all closed afterwards."""
    apps: list[Swarmlog] = []

    def make(settings: Settings | None = None) -> Swarmlog:
        app = bootstrap(settings or fresh_store(), clock=Clock())
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
