"""The eventsourcing `Application` that owns swarmlog's event store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Notification,
    PersistenceError,
    ProcessRecorder,
    Recording,
    Tracking,
)

from domain.agent import Agent
from domain.errors import NotFound
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task

log = structlog.get_logger(__name__)

SNAPSHOTTED = (Agent, Swarm, Task, Proposal)


class EventStore(Application[UUID]):
    """The log of everything that happened: aggregates in, events and notifications out."""

    name = "swarmlog"
    recorder: ProcessRecorder

    def __init__(self, env: dict[str, str], snapshot_interval: int = 0) -> None:
        if snapshot_interval:
            env = {**env, "IS_SNAPSHOTTING_ENABLED": "y"}
            # per store, from settings (the library reads it as a class default)
            self.snapshotting_intervals = dict.fromkeys(SNAPSHOTTED, snapshot_interval)  # type: ignore[misc]
        super().__init__(env)

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder: events and a consumer's tracking row in one transaction."""
        return self.factory.process_recorder()

    def save(  # type: ignore[override]
        self, *aggregates: Any, tracking: Tracking | None = None
    ) -> list[Recording[UUID]]:
        """Save the aggregates' new events atomically, with ``tracking`` when given.

        A consumer of the log (a policy) passes the position it is processing;
        the store refuses a position already recorded, so each reaction is
        written exactly once.
        """
        processing = ProcessingEvent[UUID](tracking=tracking)
        processing.collect_events(*aggregates)
        recordings = self._record(processing)
        try:
            self._take_snapshots(processing)
        except PersistenceError as error:
            # The events are committed: a snapshot is only a shortcut for loading, and
            # a missing one is taken again later. The command must not look failed.
            log.warning("store.snapshot_failed", error=str(error))
        self._notify(recordings)
        return recordings

    def is_stale(self, aggregate: Any) -> bool:
        """Whether the store holds events of the aggregate newer than its version."""
        newer = self.recorder.select_events(aggregate.id, gt=aggregate.version, limit=1)
        return bool(newer)

    def ensure_fresh(self, aggregate_id: UUID, version: int) -> None:
        """Forget a cached aggregate older than ``version`` (written by another process)."""
        cache = self.repository.cache
        if cache is None:
            return
        try:
            cached = cache.get(aggregate_id)
        except KeyError:
            return
        if cached.version < version:
            self.forget([aggregate_id])

    def forget(self, aggregate_ids: Sequence[UUID]) -> None:
        """Drop these aggregates from the cache: the next load reads the store."""
        cache = self.repository.cache
        if cache is not None:
            for aggregate_id in aggregate_ids:
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)

    def load(
        self, kind: type[Any], aggregate_id: UUID, version: int | None = None, *, copy: bool = True
    ) -> Any:
        """The aggregate of the given kind, or NOT_FOUND naming what was looked for.

        ``copy=False`` returns the cached object itself: only for reading.
        """
        label = kind.__name__.lower()
        try:
            aggregate: Any = self.repository.get(
                aggregate_id, version=version, deepcopy_from_cache=copy
            )
        except AggregateNotFoundError:
            raise NotFound(f"no {label} with id {aggregate_id}", id=str(aggregate_id)) from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {label} with id {aggregate_id}", id=str(aggregate_id))
        return aggregate

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def notifications(
        self,
        start: int = 1,
        stop: int | None = None,
        topics: Sequence[str] = (),
        page: int = 1000,
    ) -> Iterator[Notification]:
        """The notifications from ``start`` to ``stop`` (both inclusive), in log order,
        only of the given topics when some are given."""
        while True:
            batch = self.recorder.select_notifications(
                start=start,
                limit=page,
                stop=stop,
                topics=topics,
                inclusive_of_start=True,
            )
            yield from batch
            if len(batch) < page:
                return
            start = batch[-1].id + 1

    def decode(self, notification: Notification) -> DomainEventProtocol[UUID]:
        return self.mapper.to_domain_event(notification)
