"""The start-up checks that the configured stores can be used: the read models' URL,
PostgreSQL and EventStoreDB answer, and an SQLite file's directory can be written
(run by :func:`adapters.config_check.check`). Every message names the variable(s)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

from adapters.config_error import ConfigurationError, first_line
from adapters.settings import Settings

CONNECT_TIMEOUT_SECONDS = 3
"""How long a database gets to answer the start-up check."""

EVENTSTOREDB_SCHEMES = ("esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover")
EVENTSTOREDB_DEFAULT_PORT = 2113
READ_MODEL_DIALECTS = ("sqlite", "postgresql")

POSTGRES_VARIABLES = (
    "SWARMLOG_POSTGRES_HOST, SWARMLOG_POSTGRES_PORT, SWARMLOG_POSTGRES_DBNAME, "
    "SWARMLOG_POSTGRES_USER, SWARMLOG_POSTGRES_PASSWORD"
)


# -- read models -------------------------------------------------------------------------


def check_read_models(settings: Settings) -> None:
    """READ_MODEL_URL is a SQLAlchemy URL of SQLite or PostgreSQL that can be opened."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    variable = "READ_MODEL_URL"
    try:
        url: URL = make_url(settings.read_model_url)
    except (ArgumentError, ValueError) as error:
        raise ConfigurationError(
            f"{variable} is not a valid SQLAlchemy URL ({first_line(error)}); "
            "use sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/db"
        ) from None
    shown = url.render_as_string(hide_password=True)
    backend = url.get_backend_name()
    if backend not in READ_MODEL_DIALECTS:
        raise ConfigurationError(
            f"{variable}={shown}: unsupported dialect {backend!r}; "
            f"use one of {', '.join(READ_MODEL_DIALECTS)}"
        )
    try:
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError) as error:
        hint = " (use postgresql+psycopg://)" if backend == "postgresql" else ""
        raise ConfigurationError(
            f"{variable}={shown}: driver {url.get_driver_name()!r} is not available"
            f"{hint}: {first_line(error)}"
        ) from None
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            writable_directory(Path(database), variable)
        return
    _connect_postgres(
        variable,
        variable,
        host=url.host or "localhost",
        port=url.port or 5432,
        dbname=url.database or "",
        user=url.username,
        password=url.password,
    )


# -- event stores ------------------------------------------------------------------------


def check_postgres_events(settings: Settings) -> None:
    _connect_postgres(
        "SWARMLOG_EVENT_STORE=postgres",
        POSTGRES_VARIABLES,
        host=settings.postgres_host,
        port=settings.postgres_port,
        dbname=settings.postgres_dbname,
        user=settings.postgres_user,
        password=settings.postgres_password,
    )


def _connect_postgres(
    subject: str,
    variables: str,
    *,
    host: str,
    port: int,
    dbname: str,
    user: str | None,
    password: str | None,
) -> None:
    import psycopg

    try:
        with psycopg.connect(
            host=host,
            port=port,
            dbname=dbname,
            user=user,
            password=password,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        ):
            pass
    except psycopg.Error as error:
        raise ConfigurationError(
            f"{subject}: PostgreSQL at {host}:{port}/{dbname} (user {user or '-'}) is "
            f"unreachable ({first_line(error)}); check {variables}"
        ) from None


def eventstoredb_hosts(uri: str) -> list[tuple[str, int]]:
    """The (host, port) seeds of an EventStoreDB / KurrentDB connection string;
    ``ConfigurationError`` when it is malformed."""
    variable = "EVENTSTOREDB_URI"
    scheme, separator, rest = uri.strip().partition("://")
    if not separator:
        raise ConfigurationError(
            f"{variable}={uri!r} is not a connection string; expected "
            "esdb://host:2113?tls=false or esdb+discover://host:2113"
        )
    if scheme.lower() not in EVENTSTOREDB_SCHEMES:
        raise ConfigurationError(
            f"{variable}: unsupported scheme {scheme!r}; use one of "
            f"{', '.join(s + '://' for s in EVENTSTOREDB_SCHEMES)}"
        )
    authority, _, query = rest.partition("?")
    authority = authority.rstrip("/")
    if "/" in authority:
        raise ConfigurationError(f"{variable}: a connection string has no path ({uri!r})")
    hosts_part = authority.rpartition("@")[2]
    if not hosts_part:
        raise ConfigurationError(f"{variable}: no host in {uri!r}")
    hosts = [_host_port(seed, variable) for seed in hosts_part.split(",")]
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() == "tls" and value.lower() not in ("true", "false"):
            raise ConfigurationError(f"{variable}: tls must be true or false, not {value!r}")
    return hosts


def _host_port(seed: str, variable: str) -> tuple[str, int]:
    host, colon, port_text = seed.strip().rpartition(":")
    if not colon:
        host, port_text = seed.strip(), str(EVENTSTOREDB_DEFAULT_PORT)
    host = host.strip("[]")
    if not host:
        raise ConfigurationError(f"{variable}: empty host in {seed!r}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigurationError(f"{variable}: bad port {port_text!r} in {seed!r}")
    return host, int(port_text)


def check_eventstoredb(settings: Settings) -> None:
    """EVENTSTOREDB_URI is set, well formed, and one of its nodes accepts connections."""
    uri = settings.eventstoredb_uri
    if not uri:
        raise ConfigurationError(
            "SWARMLOG_EVENT_STORE=eventstoredb needs EVENTSTOREDB_URI "
            "(e.g. esdb://localhost:2113?tls=false)"
        )
    hosts = eventstoredb_hosts(uri)
    failures = []
    for host, port in hosts:
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
                return
        except OSError as error:
            failures.append(f"{host}:{port} ({error.strerror or error})")
    raise ConfigurationError(
        f"EVENTSTOREDB_URI: no EventStoreDB node reachable: {', '.join(failures)}"
    )


# -- files -------------------------------------------------------------------------------


def writable_directory(path: Path, variable: str) -> None:
    """The directory of ``path`` exists and is writable, or can be created."""
    directory = path.expanduser().absolute().parent
    existing = next(_existing(directory), None)
    if existing is None:
        raise ConfigurationError(f"{variable}={path}: no directory of it exists")
    if not existing.is_dir():
        raise ConfigurationError(f"{variable}={path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigurationError(f"{variable}={path}: directory {existing} is not writable")


def _existing(directory: Path) -> Iterator[Path]:
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            yield candidate
