"""Feeds the log to the policies, each from its own tracked position."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from application.bus import CommandBus
from application.commands import Command
from application.policies.reactions import Policy
from application.store import EventStore
from domain.errors import Conflict, DomainError

log = structlog.get_logger(__name__)


@dataclass
class PolicyRunner:
    """Runs every policy up to the head of the log.

    Each reaction is saved with the policy's new position (one transaction), so a
    crash at any point resumes exactly where it stopped. ``catch_up`` may be called
    from any thread after any commit; one thread at a time drains, and it keeps
    going until no event it has not seen remains.
    """

    store: EventStore
    bus: CommandBus
    policies: Sequence[Policy]
    persist_every: int = 1000
    """Positions of events no policy reacted to are written at most this often."""
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def position(self, policy: Policy) -> int:
        """How far the policy has read: as far as this runner saw, else as recorded.

        Another runner may have gone further; a reaction it already recorded is
        refused by the store and skipped here.
        """
        if policy.name in self._seen:
            return self._seen[policy.name]
        return self.store.recorder.max_tracking_id(policy.name) or 0

    def catch_up(self) -> int:
        """Process every event not yet seen by every policy; returns the reactions."""
        if getattr(self._local, "draining", False):
            return 0
        reactions = 0
        head = self.store.head()
        if all(self._seen.get(p.name, -1) >= head for p in self.policies):
            return 0
        while self._lock.acquire(blocking=False):
            self._local.draining = True
            try:
                head = self.store.head()
                reactions += sum(self._drain(policy, head) for policy in self.policies)
            finally:
                self._local.draining = False
                self._lock.release()
            if self.store.head() <= head:
                break
        return reactions

    def _drain(self, policy: Policy, head: int) -> int:
        start = self.position(policy) + 1
        if start > head:
            return 0
        topics = [get_topic(kind) for kind in policy.reacts_to]
        reactions = 0
        for notification in self.store.notifications(start, head, topics):
            event = self.store.decode(notification)
            command = policy.react(event)
            if command is not None:
                self._dispatch(policy, command, event, notification.id)
                reactions += 1
        recorded = self.store.recorder.max_tracking_id(policy.name) or 0
        if head - recorded >= self.persist_every:
            self._track(policy, head)
        self._seen[policy.name] = head
        return reactions

    def _dispatch(self, policy: Policy, command: Command, event: Any, position: int) -> None:
        context = {
            "actor": f"policy:{policy.name}",
            "correlation_id": event.correlation_id,
            "causation_id": f"{event.originator_id}:{event.originator_version}",
        }
        tracking = Tracking(policy.name, position)
        self.store.ensure_fresh(event.originator_id, event.originator_version)
        try:
            self.bus.handle(command, tracking=tracking, **context)
        except Conflict:
            if not self.store.recorder.has_tracking_id(policy.name, position):
                raise
        except DomainError as error:
            log.warning(
                "policy.refused",
                policy=policy.name,
                command=type(command).__name__,
                code=error.code,
                error=error.message,
                position=position,
            )
            alternative = policy.compensate(command, error)
            if alternative is None:
                self._track(policy, position)
            else:
                self._dispatch(policy, alternative, event, position)

    def _track(self, policy: Policy, position: int) -> None:
        try:
            self.store.recorder.insert_tracking(Tracking(policy.name, position))
        except IntegrityError:
            log.debug("policy.position_taken", policy=policy.name, position=position)
