"""The command bus: one handler per command type, context stamping, retries, idempotency."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking

from application.commands.base import Command
from application.idempotency import IdempotencyRecord, fingerprint, record_id
from application.store import EventStore
from application.unit_of_work import UnitOfWork
from domain.base import EventContext, event_context
from domain.errors import Conflict, DomainError, IdempotencyKeyReused, Unavailable

log = structlog.get_logger(__name__)

Handler = Callable[[Any, UnitOfWork], Any]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CommandResult:
    """What a command did: the aggregate it was about and where its events landed."""

    aggregate_id: UUID
    version: int
    position: int
    events: tuple[str, ...] = ()
    repeated: bool = False


@dataclass
class CommandBus:
    """Routes each command to its handler and saves what the handler touched, atomically.

    A handler loads aggregates through the unit of work, calls their methods and
    returns the aggregate the command is about; the bus saves every touched
    aggregate (and the idempotency record) in one ``save()``. On an
    optimistic-concurrency conflict it retries up to ``retries`` times, then
    raises CONFLICT.
    """

    store: EventStore
    handlers: Mapping[type[Command], Handler]
    retries: int = 5
    clock: Clock = field(default=lambda: datetime.now(UTC))
    after_commit: list[Callable[[CommandResult], None]] = field(default_factory=list)

    def handle(
        self,
        command: Command,
        *,
        actor: str = "system",
        correlation_id: str | None = None,
        causation_id: str | None = None,
        tracking: Tracking | None = None,
    ) -> CommandResult:
        handler = self.handlers[type(command)]
        command_id = str(uuid4())
        context = EventContext(
            actor=actor,
            correlation_id=correlation_id or command_id,
            causation_id=causation_id or command_id,
            now=self.clock(),
        )
        token = event_context.set(context)
        try:
            result = self._run(command, handler, tracking)
        except PersistenceError as error:  # conflicts (IntegrityError) are handled in _run
            log.warning("command.unavailable", command=type(command).__name__, error=str(error))
            raise Unavailable(
                "the event store cannot be reached; try again (with the same idempotency key, "
                "a command is applied at most once)"
            ) from error
        finally:
            event_context.reset(token)
        for hook in self.after_commit:
            hook(result)
        return result

    def _run(self, command: Command, handler: Handler, tracking: Tracking | None) -> CommandResult:
        key = command.idempotency_key
        for attempt in range(self.retries + 1):
            if key is not None and (earlier := self._earlier_result(key, command)):
                return earlier
            subject, touched = self._decide(command, handler)
            if key is not None:
                touched.append(
                    IdempotencyRecord(
                        key=key,
                        fingerprint=fingerprint(command),
                        aggregate_id=subject.id,
                        version=subject.version,
                    )
                )
            names = [
                type(event).__qualname__
                for aggregate in touched
                if not isinstance(aggregate, IdempotencyRecord)
                for event in aggregate.pending_events
            ]
            try:
                recordings = self.store.save(*touched, tracking=tracking)
            except IntegrityError:
                if tracking is not None and self._already_tracked(tracking):
                    raise Conflict(
                        f"position {tracking.notification_id} of "
                        f"{tracking.application_name} was already processed",
                        already_processed=True,
                    ) from None
                if self._landed(subject):
                    # The store retried an insert whose commit had gone through before
                    # the connection broke: the conflict is with this command itself.
                    log.warning("command.landed_before_error", command=type(command).__name__)
                    self.store.forget([aggregate.id for aggregate in touched])  # not cached
                    return CommandResult(
                        aggregate_id=subject.id,
                        version=subject.version,
                        position=self.store.head(),
                        events=tuple(names),
                    )
                self.store.forget([aggregate.id for aggregate in touched])
                log.info("command.conflict", command=type(command).__name__, attempt=attempt)
                time.sleep(0.001 * (2**attempt))
                continue
            except PersistenceError:
                self.store.forget([aggregate.id for aggregate in touched])
                raise
            position = recordings[-1].notification.id if recordings else self.store.head()
            return CommandResult(
                aggregate_id=subject.id,
                version=subject.version,
                position=position,
                events=tuple(
                    type(r.domain_event).__qualname__
                    for r in recordings
                    if not isinstance(r.domain_event, IdempotencyRecord.Event)
                ),
            )
        raise Conflict(
            f"{type(command).__name__} kept conflicting with concurrent changes "
            f"after {self.retries} retries; try again",
            retries=self.retries,
        )

    def _landed(self, subject: Any) -> bool:
        """Whether the subject's newest event, as this command would have written it, is
        in the store already: written by this very command (its causation and
        correlation ids are this command's own)."""
        stored = self.store.recorder.select_events(
            subject.id, gt=subject.version - 1, lte=subject.version, limit=1
        )
        if not stored:
            return False
        event = self.store.mapper.to_domain_event(stored[0])
        context = event_context.get()
        return bool(
            getattr(event, "causation_id", None) == context.causation_id
            and getattr(event, "correlation_id", None) == context.correlation_id
        )

    def _decide(self, command: Command, handler: Handler) -> tuple[Any, list[Any]]:
        """Run the handler; a refusal made on stale cached state is made again on the
        stored state (another process may have changed the aggregates since)."""
        now = event_context.get().now or self.clock()
        unit = UnitOfWork(self.store, now)
        try:
            subject = handler(command, unit)
        except DomainError:
            stale = [a.id for a in unit.seen if self.store.is_stale(a)]
            if not stale:
                raise
            self.store.forget(stale)
            unit = UnitOfWork(self.store, now)
            subject = handler(command, unit)
        return subject, unit.aggregates

    def _already_tracked(self, tracking: Tracking) -> bool:
        recorder = self.store.recorder
        return recorder.has_tracking_id(tracking.application_name, tracking.notification_id)

    def _earlier_result(self, key: str, command: Command) -> CommandResult | None:
        try:
            record: IdempotencyRecord = self.store.repository.get(record_id(key))
        except AggregateNotFoundError:
            return None
        if record.fingerprint != fingerprint(command):
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was first used for a different command",
                key=key,
            )
        return CommandResult(
            aggregate_id=record.aggregate_id,
            version=record.result_version,
            position=self.store.head(),
            repeated=True,
        )
