"""Idempotency records: saved in the same transaction as the command's events."""

from __future__ import annotations

import hashlib
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from application.commands.base import Command
from domain.base import SwarmlogAggregate

_NAMESPACE = uuid5(NAMESPACE_URL, "swarmlog:idempotency")


def record_id(key: str) -> UUID:
    return uuid5(_NAMESPACE, key)


def fingerprint(command: Command) -> str:
    body = command.model_dump_json(exclude={"idempotency_key"})
    return hashlib.sha256(f"{type(command).__name__}:{body}".encode()).hexdigest()


class IdempotencyRecord(SwarmlogAggregate):
    """The first result of a command issued with an idempotency key.

    Its id derives from the key, so a second command with the same key cannot be
    saved: the store refuses version 1 twice, and the bus answers with this record.
    """

    class Recorded(SwarmlogAggregate.Created):
        key: str
        fingerprint: str
        aggregate_id: UUID
        version: int

    @staticmethod
    def create_id(key: str) -> UUID:
        return record_id(key)

    @event(Recorded)
    def __init__(self, key: str, fingerprint: str, aggregate_id: UUID, version: int) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.aggregate_id = aggregate_id
        self.result_version = version
