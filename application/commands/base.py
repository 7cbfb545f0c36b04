"""What every command has in common, and turning raw input into a command."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.errors import ValidationError

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Capability = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Command(BaseModel):
    """An immutable request to change the system; the bus routes it to one handler.

    ``permission`` names what a principal needs to issue it (checked by the API).
    ``idempotency_key``: a repeated command with the same key returns the first
    result and writes nothing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    permission: ClassVar[str] = ""

    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _no_nul_characters(self) -> Command:
        """No text anywhere in a command (nested JSON values included) may hold a NUL
        character: PostgreSQL cannot store one in text or jsonb, so such an event
        could be written and never shown."""
        for name in type(self).model_fields:
            if _holds_nul(getattr(self, name)):
                raise ValidationError(
                    f"{name} must not contain NUL characters (\\u0000)", field=name
                )
        return self


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_nul(v) for v in value)
    return False


C = TypeVar("C", bound=Command)


def parse_command(kind: type[C], data: dict[str, Any]) -> C:
    """Build a command from raw input; bad input becomes a VALIDATION error naming the field."""
    try:
        return kind.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise ValidationError(
            f"{field}: {first['msg']}" if field else first["msg"],
            field=field,
            errors=[
                {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in error.errors()
            ],
        ) from None
