"""Column helpers shared by the read models (ids are stored as 36-character strings)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, DateTime, String


def id_column(name: str, *, primary_key: bool = False, nullable: bool = True) -> Column[Any]:
    return Column(name, String(36), primary_key=primary_key, nullable=nullable and not primary_key)


def time_column(name: str) -> Column[Any]:
    return Column(name, DateTime(timezone=True))


def json_column(name: str) -> Column[Any]:
    return Column(name, JSON, nullable=False)


def sid(value: UUID | str | None) -> str | None:
    """An id as the read models store it."""
    return None if value is None else str(value)
