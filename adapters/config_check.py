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

import sys
from collections.abc import Sequence

from pydantic import ValidationError

from adapters.auth import AuthConfigurationError, TokenService
from adapters.config_error import ConfigurationError, first_line
from adapters.config_reach import (
    check_eventstoredb,
    check_postgres_events,
    check_read_models,
    writable_directory,
)
from adapters.settings import Settings

NO_STORE_COMMANDS = frozenset({"token"})
"""Commands that touch no store: only their settings (and the JWT ones) are checked."""


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
        writable_directory(settings.sqlite_path, "SWARMLOG_SQLITE_PATH")
    elif settings.event_store == "postgres":
        check_postgres_events(settings)
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
                f"{variable} is not a valid {service.algorithm} PEM key ({first_line(error)})"
            ) from None
