"""The checks on a new proposal's input (see ``Proposal.create``): who takes
part, their weights, the value put to the vote, its deadline and the action it
triggers when accepted."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.consensus import ConsensusProtocol
from domain.errors import NotParticipant, ValidationError
from domain.validation import is_number

ACTION_FIELDS: dict[str, dict[str, type]] = {
    "scale_swarm": {"max_agents": int},
    "change_strategy": {"strategy": str},
    "reassign_task": {"task_id": str, "agent_id": str},
}


def check_participants(participants: Iterable[str], proposer_id: str) -> list[str]:
    """1 to 1000 distinct non-empty ids, the proposer among them; returned sorted."""
    people = list(participants)
    if not 1 <= len(people) <= 1000 or not all(isinstance(p, str) and p for p in people):
        raise ValidationError("participants must be 1 to 1000 non-empty ids", field="participants")
    if len(set(people)) != len(people):
        raise ValidationError("participants must not repeat", field="participants")
    if proposer_id not in people:
        raise NotParticipant(
            f"the proposer {proposer_id!r} is not a participant",
            proposer_id=proposer_id,
        )
    return sorted(people)


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def check_value(value: Any) -> Any:
    """A JSON value other than null."""
    if value is None or not _is_json(value):
        raise ValidationError(
            "value must be a JSON value (object, string or number)", field="value"
        )
    return value


def check_deadline(deadline: Any) -> datetime:
    if not isinstance(deadline, datetime) or deadline.tzinfo is None:
        raise ValidationError("deadline must be a timezone-aware datetime", field="deadline")
    return deadline


def check_weights(
    protocol: str, people: list[str], weights: Mapping[str, float] | None
) -> dict[str, float]:
    """Participant -> weight: 1.0 each when none are given. Only the weighted
    protocol takes weights, one per participant, finite and >= 0, summing above 0."""
    if weights is None:
        return dict.fromkeys(sorted(people), 1.0)
    if protocol != ConsensusProtocol.WEIGHTED:
        raise ValidationError(
            f"weights are only for the weighted protocol, not {protocol}",
            field="weights",
        )
    if set(weights) != set(people):
        raise ValidationError(
            "every participant, and only participants, must have a weight",
            field="weights",
            missing=sorted(set(people) - set(weights)),
            extra=sorted(set(weights) - set(people)),
        )
    values = list(weights.values())
    if not all(is_number(w) and w >= 0 for w in values) or not math.fsum(values) > 0:
        raise ValidationError(
            "weights must be finite numbers >= 0 with a total above 0",
            field="weights",
        )
    return {p: float(weights[p]) for p in sorted(people)}


def check_action(action: Any) -> dict[str, Any] | None:
    """None, or one of :data:`ACTION_FIELDS` with exactly its fields; ids are
    returned as UUID strings."""
    if action is None:
        return None
    kind = action.get("type") if isinstance(action, dict) else None
    if kind not in ACTION_FIELDS:
        raise ValidationError(
            f"unknown action {kind!r}; allowed types: {', '.join(ACTION_FIELDS)}",
            field="action",
            allowed=list(ACTION_FIELDS),
        )
    fields = ACTION_FIELDS[kind]
    if set(action) != {"type", *fields}:
        raise ValidationError(
            f"a {kind} action takes exactly: type, {', '.join(fields)}",
            field="action",
        )
    clean: dict[str, Any] = {"type": kind}
    for name, kind_type in fields.items():
        value = action[name]
        if kind_type is int:
            if type(value) is not int or value < 1:
                raise ValidationError(f"action {name} must be a positive integer", field="action")
        elif name.endswith("_id"):
            try:
                value = str(value if isinstance(value, UUID) else UUID(str(value)))
            except ValueError as e:
                raise ValidationError(f"action {name} must be a UUID", field="action") from e
        elif not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise ValidationError(
                f"action {name} must be a string of 1 to 64 characters",
                field="action",
            )
        clean[name] = value
    return clean
