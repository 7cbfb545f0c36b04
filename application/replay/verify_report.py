"""What :func:`application.replay.verify.verify` reports: the kinds of finding, each
finding, and the report that gathers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "position_order",
    "position_gap",
    "version_gap",
    "version_order",
    "unknown_topic",
    "undecodable",
    "not_upcast",
    "unreconstructable",
    "snapshot_undecodable",
    "snapshot_mismatch",
    "snapshot_orphan",
)
"""Every kind of finding :func:`verify` reports."""


@dataclass(frozen=True)
class Finding:
    """One fault of the log: its kind (one of :data:`KINDS`), where it is, and what."""

    kind: str
    position: int | None
    stream_id: str | None
    version: int | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.stream_id is not None:
            where.append(f"stream {self.stream_id}")
        if self.version is not None:
            where.append(f"version {self.version}")
        return f"{self.kind} ({', '.join(where) or 'log'}): {self.message}"


@dataclass
class VerifyReport:
    """What was verified and what was found; ``ok`` when nothing was."""

    events: int = 0
    streams: int = 0
    snapshots: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def add(
        self,
        kind: str,
        message: str,
        *,
        position: int | None = None,
        stream_id: Any = None,
        version: int | None = None,
    ) -> None:
        stream = None if stream_id is None else str(stream_id)
        self.findings.append(Finding(kind, position, stream, version, message))

    def lines(self) -> list[str]:
        """The report as text, one line a finding after a summary line."""
        summary = (
            f"{self.events} events in {self.streams} streams, {self.snapshots} snapshots: "
            + ("ok" if self.ok else f"{len(self.findings)} finding(s)")
        )
        return [summary, *(str(finding) for finding in self.findings)]
