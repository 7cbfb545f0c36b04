"""The Task aggregate's schema history: the upcasters of its older events and
snapshots (see docs/event-evolution.md).

``Task.Failed`` v2 records ``retryable``; a v1 event is upcast with
``retryable=True``, which is what every failure meant before v2. The aggregate is
v2 for its snapshots, which hold the new ``retryable`` attribute.

``Task.Assigned`` v2 records ``note``: why the strategy chose as it did when that is
worth knowing (the ``neural`` strategy's model version and confidence, or its
fallback to the capability score). A v1 event is upcast with ``note=None``: "not
recorded". The aggregate is v3 for its snapshots, which hold ``assignment_note``.
"""

from __future__ import annotations

from typing import Any


def snapshot_v1_v2(state: dict[str, Any]) -> None:
    """A v1 snapshot predates permanent failures: any failure could be retried."""
    state["retryable"] = True


def snapshot_v2_v3(state: dict[str, Any]) -> None:
    """A v2 snapshot predates assignment notes: none was recorded."""
    state["assignment_note"] = None


def assigned_v1_v2(state: dict[str, Any]) -> None:
    """Before v2 no strategy left a note: not recorded."""
    state["note"] = None


def failed_v1_v2(state: dict[str, Any]) -> None:
    """Before v2 every failure could be retried (while retries were left)."""
    state["retryable"] = True
