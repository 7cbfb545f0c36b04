"""The registry of the neural engine's model versions: which exist, what each learned
from and how well it did, and which one is active.

The weights are files, not events (see :mod:`adapters.neural.service`): a version
records the SHA-256 of its file, so a replay of the log rebuilds the registry
(versions, metrics, spans, the active version) and the weights are found again on
disk by checksum. There is one registry per log: its stream id is fixed.

Rules (stable codes):

- a version number is recorded once (CONFLICT otherwise: two trainers raced);
- numbers are positive, kinds are ``full``, ``incremental`` or ``imported``, the
  checksum is 64 hex digits, the span is ordered (VALIDATION otherwise);
- only a recorded version can be activated (NOT_FOUND otherwise); activating the
  active version again is a no-op.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import SwarmlogAggregate
from domain.errors import Conflict, NotFound, ValidationError
from domain.validation import text, validate_int

REGISTRY_ID = uuid5(NAMESPACE_URL, "swarmlog:neural-model-registry")
"""The one registry's stream id."""

KINDS = ("full", "incremental", "imported")
"""``full``: trained from scratch on the log; ``incremental``: updated on new examples;
``imported``: read from a file exported elsewhere."""

MAX_NUMBER = 1_000_000_000


def _sha256(value: Any) -> str:
    if not (
        isinstance(value, str) and len(value) == 64 and set(value) <= set(string.hexdigits.lower())
    ):
        raise ValidationError("sha256 must be 64 lowercase hex digits", field="sha256")
    return value


class ModelRegistry(SwarmlogAggregate):
    """The versions (``number -> facts``) and the ``active`` number (None: none yet)."""

    class Opened(SwarmlogAggregate.Created):
        pass

    class VersionRecorded(SwarmlogAggregate.Event):
        number: int
        kind: str
        first_position: int
        last_position: int
        examples: int
        metrics: dict[str, dict[str, float]]
        hyperparameters: dict[str, Any]
        feature_version: int
        sha256: str
        source: str

    class VersionActivated(SwarmlogAggregate.Event):
        number: int
        previous: int | None

    @staticmethod
    def create_id() -> UUID:
        return REGISTRY_ID

    @event(Opened)
    def __init__(self) -> None:
        self.versions: dict[str, dict[str, Any]] = {}
        """By number as a string (aggregate state keeps JSON-friendly keys)."""
        self.active: int | None = None

    # ------------------------------------------------------------------ reading
    def version_of(self, number: int) -> dict[str, Any] | None:
        found = self.versions.get(str(number))
        return None if found is None else {"number": number, **found}

    def numbers(self) -> list[int]:
        return sorted(int(n) for n in self.versions)

    @property
    def next_number(self) -> int:
        return max(self.numbers(), default=0) + 1

    # ------------------------------------------------------------------ commands
    def record_version(
        self,
        *,
        number: int,
        kind: str,
        first_position: int,
        last_position: int,
        examples: int,
        metrics: dict[str, dict[str, float]],
        hyperparameters: dict[str, Any],
        feature_version: int,
        sha256: str,
        source: str = "",
    ) -> None:
        validate_int(number, "number", 1, MAX_NUMBER)
        if str(number) in self.versions:
            raise Conflict(
                f"model version {number} is already recorded; the next is {self.next_number}",
                field="number",
                number=number,
            )
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", field="kind")
        validate_int(first_position, "first_position", 0, 2**62)
        validate_int(last_position, "last_position", first_position, 2**62)
        validate_int(examples, "examples", 0, 2**62)
        validate_int(feature_version, "feature_version", 1, MAX_NUMBER)
        if source:
            text(source, "source", 500)
        self._record(
            number=number,
            kind=kind,
            first_position=first_position,
            last_position=last_position,
            examples=examples,
            metrics=metrics,
            hyperparameters=hyperparameters,
            feature_version=feature_version,
            sha256=_sha256(sha256),
            source=source,
        )

    def activate(self, number: int) -> None:
        validate_int(number, "number", 1, MAX_NUMBER)
        if str(number) not in self.versions:
            known = ", ".join(str(n) for n in self.numbers()) or "none"
            raise NotFound(
                f"no model version {number}; recorded versions: {known}", field="version"
            )
        if self.active == number:
            return
        self._activate(number=number, previous=self.active)

    # ------------------------------------------------------------------ events
    @event(VersionRecorded)
    def _record(
        self,
        number: int,
        kind: str,
        first_position: int,
        last_position: int,
        examples: int,
        metrics: dict[str, dict[str, float]],
        hyperparameters: dict[str, Any],
        feature_version: int,
        sha256: str,
        source: str,
        timestamp: datetime | None = None,
    ) -> None:
        self.versions[str(number)] = {
            "kind": kind,
            "first_position": first_position,
            "last_position": last_position,
            "examples": examples,
            "metrics": metrics,
            "hyperparameters": hyperparameters,
            "feature_version": feature_version,
            "sha256": sha256,
            "source": source,
            "recorded_at": timestamp,
        }

    @event(VersionActivated)
    def _activate(
        self, number: int, previous: int | None, timestamp: datetime | None = None
    ) -> None:
        self.active = number
        self.versions[str(number)]["activated_at"] = timestamp
