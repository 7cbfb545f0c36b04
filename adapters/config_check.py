"""Start-up validation of the configuration: a clear, one-line message for a wrong value.

Pydantic refuses a malformed value when ``Settings()`` is built (a port out of range, an
unknown event store); :func:`load_settings` turns that refusal into a
:class:`ConfigurationError` naming the environment variable. :func:`check` goes further
and looks at what pydantic cannot see: a URL SQLAlchemy cannot use, a database that does
not answer, an EventStoreDB connection string of the wrong shape, a directory that
cannot be written, JWT settings that do not fit together.

Every message names the variable(s) to change (``SWARMLOG_POSTGRES_PORT``, ...).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import parse_qsl

from pydantic import ValidationError

from adapters.auth import AuthConfigurationError, TokenService
from adapters.settings import Settings

CONNECT_TIMEOUT_SECONDS = 3
"""How long a database gets to answer the start-up check."""

EVENTSTOREDB_SCHEMES = ("esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover")
EVENTSTOREDB_DEFAULT_PORT = 2113
READ_MODEL_DIALECTS = ("sqlite", "postgresql")

NO_STORE_COMMANDS = frozenset({"token"})
"""Commands that touch no store: only their settings (and the JWT ones) are checked."""

POSTGRES_VARIABLES = (
    "SWARMLOG_POSTGRES_HOST, SWARMLOG_POSTGRES_PORT, SWARMLOG_POSTGRES_DBNAME, "
    "SWARMLOG_POSTGRES_USER, SWARMLOG_POSTGRES_PASSWORD"
)


class ConfigurationError(ValueError):
    """The configuration cannot work; the message (one line) names the variable."""


def variable_names(name: str) -> tuple[str, ...]:
    """The environment variables that set field ``name`` of ``Settings``, preferred first."""
    field = Settings.model_fields[name]
    alias = field.validation_alias
    if alias is None:
        prefix = str(Settings.model_config.get("env_prefix") or "")
        return (f"{prefix}{name}".upper(),)
    if isinstance(alias, str):
        return (alias,)
    choices = getattr(alias, "choices", ())
    return tuple(str(choice) for choice in choices if isinstance(choice, str))


def all_variable_names() -> frozenset[str]:
    """Every environment variable the ``Settings`` model reads."""
    return frozenset(v for name in Settings.model_fields for v in variable_names(name))


def _variable_of(location: Sequence[int | str]) -> str:
    if not location:
        return "configuration"
    key = str(location[0])
    if key in Settings.model_fields:
        return variable_names(key)[0]
    for name in Settings.model_fields:
        if key in variable_names(name) or key.upper() in variable_names(name):
            return variable_names(name)[0]
    return key.upper()


def describe_validation_error(error: ValidationError) -> str:
    """One line: ``SWARMLOG_POSTGRES_PORT: Input should be ... (got '70000')``, joined by '; '."""
    parts = []
    for item in error.errors():
        variable = _variable_of(item.get("loc", ()))
        message = str(item.get("msg", "invalid value"))
        value = item.get("input")
        got = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
        parts.append(f"{variable}: {message}{got}")
    return "; ".join(parts)


def load_settings() -> Settings:
    """``Settings()`` from the environment, a ``ConfigurationError`` for a refused value."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None


def check(settings: Settings) -> None:
    """Raise ``ConfigurationError`` unless the stores and the JWT settings can work.

    Connects to PostgreSQL (events or read models) with a short timeout, and to an
    EventStoreDB node's port; cheap enough to run at the start of every command.
    """
    check_auth(settings)
    check_read_models(settings)
    if settings.event_store == "sqlite":
        _writable_directory(settings.sqlite_path, "SWARMLOG_SQLITE_PATH")
    elif settings.event_store == "postgres":
        _check_postgres_events(settings)
    elif settings.event_store == "eventstoredb":
        check_eventstoredb(settings)


def check_command(command: str | None, argv: Sequence[str] | None = None) -> Settings | None:
    """The start-up check of a ``swarmlog`` command: its settings parse, and, for a
    command that needs a store, :func:`check`. Nothing for ``--help``."""
    arguments = sys.argv[1:] if argv is None else argv
    if command is None or "--help" in arguments:
        return None
    settings = load_settings()
    if command in NO_STORE_COMMANDS:
        check_auth(settings)
    else:
        check(settings)
    return settings


# -- JWT ---------------------------------------------------------------------------------


def check_auth(settings: Settings) -> None:
    """The JWT settings fit together (and a configured public key is a key)."""
    try:
        service = TokenService(settings)
    except AuthConfigurationError as error:
        raise ConfigurationError(str(error)) from None
    if service.algorithm == "HS256":
        return
    from jwt.algorithms import get_default_algorithms
    from jwt.exceptions import InvalidKeyError

    algorithm = get_default_algorithms()[service.algorithm]
    keys = (
        ("SWARMLOG_JWT_PUBLIC_KEY", settings.jwt_public_key),
        ("SWARMLOG_JWT_PRIVATE_KEY", settings.jwt_private_key),
    )
    for variable, value in keys:
        if not value:
            continue
        pem = value.replace("\\n", "\n").strip() + "\n"
        try:
            algorithm.prepare_key(pem)
        except (InvalidKeyError, ValueError, TypeError) as error:
            raise ConfigurationError(
                f"{variable} is not a valid {service.algorithm} PEM key ({_first_line(error)})"
            ) from None


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
            f"{variable} is not a valid SQLAlchemy URL ({_first_line(error)}); "
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
            f"{hint}: {_first_line(error)}"
        ) from None
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _writable_directory(Path(database), variable)
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


def _check_postgres_events(settings: Settings) -> None:
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
            f"unreachable ({_first_line(error)}); check {variables}"
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


def _writable_directory(path: Path, variable: str) -> None:
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


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
