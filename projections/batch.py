"""The pieces a projection runner moves around: lanes, batches, and how a batch fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from projections.projection import Projection

Progress = Callable[[int, int], None]
"""Called with (position reached, head) after each batch."""


class ProjectorFailed(Exception):
    def __init__(self, position: int, event: Any, error: Exception) -> None:
        super().__init__(f"event at position {position} ({type(event).__qualname__}): {error!r}")
        self.position = position
        self.event = event
        self.error = error


class CheckpointMoved(Exception):
    """Another runner moved the checkpoint since this batch read it."""


@dataclass(frozen=True)
class Lane:
    """One projection's tables of one generation, and the checkpoint they have reached."""

    projection: Projection
    generation: int
    column: str
    """Which checkpoint of the status row: "checkpoint" (live) or "building_checkpoint"."""
    checkpoint: int


@dataclass
class Batch:
    events: list[tuple[int, Any]]
    reaches: int


def now() -> datetime:
    return datetime.now(UTC)
