"""Commands on the neural engine's model registry (:mod:`domain.neural`).

The engine's service issues them: it writes a version's weights to a file first,
then records the version with the file's checksum; activating makes a recorded
version the one predictions and the ``neural`` strategy use.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from application.commands.base import Command


class RecordModelVersion(Command):
    """A trained (``full``, ``incremental``) or ``imported`` version and its facts."""

    permission: ClassVar[str] = "neural:train"
    number: int = Field(ge=1, le=1_000_000_000)
    kind: Literal["full", "incremental", "imported"]
    first_position: int = Field(ge=0)
    last_position: int = Field(ge=0)
    examples: int = Field(ge=0)
    metrics: dict[str, dict[str, float]] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    feature_version: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    source: str = Field(default="", max_length=500)


class ActivateModelVersion(Command):
    """Make a recorded version the active one."""

    permission: ClassVar[str] = "neural:activate"
    number: int = Field(ge=1, le=1_000_000_000)
