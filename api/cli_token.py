"""`swarmlog token`: issue an API token (only the token goes to stdout)."""

from __future__ import annotations

import warnings
from typing import Annotated

import typer
from jwt.warnings import InsecureKeyLengthWarning

from adapters.auth import (
    MAX_TTL_SECONDS,
    ROLES,
    AuthConfigurationError,
    TokenService,
    jwt_secret_is_default,
    role_names,
)
from adapters.settings import Settings


def token(
    role: Annotated[
        str, typer.Option(help=f"Role of the token: {', '.join(ROLES)}.", show_default=False)
    ],
    subject: Annotated[str, typer.Option(help="Who the token is for (`sub` claim).")] = (
        "local-admin"
    ),
    ttl: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_TTL_SECONDS,
            help="Lifetime in seconds; default: SWARMLOG_JWT_TTL_SECONDS.",
        ),
    ] = None,
) -> None:
    """Print a signed API token: TOKEN=$(swarmlog token --role admin)."""
    if role not in ROLES:
        raise typer.BadParameter(
            f"unknown role {role!r}; roles: {role_names()}", param_hint="'--role'"
        )
    settings = Settings()
    try:
        service = TokenService(settings)
        with warnings.catch_warnings():
            if jwt_secret_is_default(settings):  # warned about below, in plainer words
                warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            issued = service.issue(subject, role, ttl_seconds=ttl)
    except AuthConfigurationError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    if jwt_secret_is_default(settings):
        typer.echo(
            "warning: signed with the development secret; set SWARMLOG_JWT_SECRET "
            "outside development",
            err=True,
        )
    typer.echo(issued)
