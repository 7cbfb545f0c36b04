"""Validation shared by the aggregates: a failure is a VALIDATION error naming the field."""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from domain.errors import ValidationError

E = TypeVar("E", bound=StrEnum)


def parse_enum(enum_cls: type[E], value: Any, field: str) -> E:
    """``value`` as a member of ``enum_cls``, or a ValidationError listing them."""
    try:
        return enum_cls(value)
    except ValueError:
        allowed = [m.value for m in enum_cls]
        raise ValidationError(
            f"{field} {value!r} is unknown; allowed: {', '.join(allowed)}",
            field=field,
            value=value,
            allowed=allowed,
        ) from None


def normalize_capabilities(capabilities: Iterable[str]) -> list[str]:
    """Lowercased, stripped, deduplicated and sorted; 1..50 items of 1..64 chars."""
    if isinstance(capabilities, str) or not isinstance(capabilities, Iterable):
        raise ValidationError("capabilities must be a list of strings", field="capabilities")
    cleaned: set[str] = set()
    for cap in capabilities:
        if not isinstance(cap, str) or not cap.strip() or len(cap.strip()) > 64:
            raise ValidationError(
                f"capability {cap!r} must be a non-empty string of at most 64 chars",
                field="capabilities",
                value=cap,
            )
        cleaned.add(cap.strip().lower())
    if not 1 <= len(cleaned) <= 50:
        raise ValidationError(
            f"an agent needs 1 to 50 capabilities, got {len(cleaned)}",
            field="capabilities",
            count=len(cleaned),
        )
    return sorted(cleaned)


def validate_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        raise ValidationError("name must be 1 to 200 characters after stripping", field="name")
    return name.strip()


def validate_int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer", field=field, value=value)
    if not low <= value <= high:
        raise ValidationError(
            f"{field} must be between {low} and {high}, got {value}",
            field=field,
            value=value,
            min=low,
            max=high,
        )
    return value


def is_number(value: Any) -> bool:
    """A finite int or float; a bool is not a number here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_float(value: Any, field: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{field} must be a number", field=field, value=value)
    if not math.isfinite(value):
        raise ValidationError(f"{field} must be finite", field=field, value=value)
    if not low <= value <= high:
        raise ValidationError(
            f"{field} must be between {low:g} and {high:g}, got {value:g}",
            field=field,
            value=value,
            min=low,
            max=high,
        )
    return float(value)


def validate_uuid(value: Any, field: str) -> UUID:
    if not isinstance(value, UUID):
        raise ValidationError(f"{field} must be a UUID", field=field)
    return value


def validate_str(value: Any, field: str) -> str:
    """Any string, the empty one included."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string", field=field)
    return value


def text(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= max_len:
        raise ValidationError(f"{field} must be a string of 1 to {max_len} characters", field=field)
    return value


def task_ids(values: Iterable[Any], field: str) -> list[UUID]:
    ids = list(values)
    if not all(isinstance(v, UUID) for v in ids):
        raise ValidationError(f"{field} must be task ids (UUIDs)", field=field)
    if len(set(ids)) != len(ids):
        raise ValidationError(f"{field} must not repeat a task", field=field)
    return sorted(ids)
