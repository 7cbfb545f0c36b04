"""EventStoreDB / KurrentDB persistence for swarmlog, on `eventsourcing-eventstoredb`.

The package's recorders are adapted to what the rest of swarmlog expects of a store
(see docs/eventstoredb.md for the design):

- **Versions.** Streams start at position 0, swarmlog's aggregates at version 1 (the
  library's default ``INITIAL_VERSION``; exports, imports, time travel and the read
  models all count from 1). The events recorder maps one onto the other
  (``version = stream_position + 1``), so no aggregate changes its ``INITIAL_VERSION``.
  Snapshots keep their version in the event metadata (the package's own scheme).
- **Several aggregates in one command** are appended with one atomic
  ``multi_append_to_stream`` (KurrentDB 25.1 or later). A write that touches one
  stream only is a plain ``append_to_stream`` (any EventStoreDB version).
- **Tracking** (a policy's processed position) is an event in the stream
  ``swarmlog-tracking-<consumer>``, appended in the same multi-stream append as the
  reaction, guarded by that stream's version: a position at or below the recorded
  one is refused (``IntegrityError``), which is the exactly-once guarantee the SQL
  stores give with their tracking table.
- **Positions** are commit positions: ordered, not contiguous. ``start`` is
  inclusive as on the SQL stores, although the server only reads from positions that
  exist: swarmlog asks for ``last + 1``, so ``start - 1`` is tried first.
- **Wake-ups**: :class:`CatchUpWaker` holds a catch-up subscription to ``$all``.

The recorder is in adapters/eventstoredb_recorder.py, the mapping of events onto
streams in adapters/eventstoredb_streams.py, the waker in adapters/eventstoredb_waker.py;
this module is the factory that ``PERSISTENCE_MODULE`` names (adapters/event_store.py).
"""

from __future__ import annotations

from pathlib import Path

from eventsourcing.persistence import (
    AggregateRecorder,
    InfrastructureFactory,
    PersistenceError,
    ProgrammingError,
    TrackingRecorder,
)
from eventsourcing.utils import Environment
from eventsourcing_eventstoredb.recorders import EventStoreDBAggregateRecorder
from kurrentdbclient import KurrentDBClient

from adapters.eventstoredb_recorder import CatchUpSubscription, SwarmlogEventStoreDBRecorder
from adapters.eventstoredb_streams import TRACKING_TYPE
from adapters.eventstoredb_waker import CatchUpWaker

__all__ = [
    "TRACKING_TYPE",
    "CatchUpSubscription",
    "CatchUpWaker",
    "SwarmlogEventStoreDBFactory",
    "SwarmlogEventStoreDBRecorder",
    "root_certificates",
]


def root_certificates(value: str | None) -> str | None:
    """The PEM itself, or read from the file the setting names."""
    if value is None or "-----BEGIN" in value:
        return value
    path = Path(value).expanduser()
    return path.read_text(encoding="ascii") if path.is_file() else value


class SwarmlogEventStoreDBFactory(InfrastructureFactory[TrackingRecorder]):
    """Recorders on one KurrentDB client, configured by ``EVENTSTOREDB_URI`` (with
    credentials and TLS options in it) and ``EVENTSTOREDB_ROOT_CERTIFICATES``."""

    EVENTSTOREDB_URI = "EVENTSTOREDB_URI"
    EVENTSTOREDB_ROOT_CERTIFICATES = "EVENTSTOREDB_ROOT_CERTIFICATES"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        uri = self.env.get(self.EVENTSTOREDB_URI)
        if not uri:
            raise PersistenceError(
                "EVENTSTOREDB_URI is not set (e.g. esdb://localhost:2113?tls=false)"
            )
        self.client = KurrentDBClient(
            uri=uri,
            root_certificates=root_certificates(self.env.get(self.EVENTSTOREDB_ROOT_CERTIFICATES)),
        )

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        if purpose == "snapshots":
            return EventStoreDBAggregateRecorder(client=self.client, for_snapshotting=True)
        return SwarmlogEventStoreDBRecorder(self.client)

    def application_recorder(self) -> SwarmlogEventStoreDBRecorder:
        return SwarmlogEventStoreDBRecorder(self.client)

    def process_recorder(self) -> SwarmlogEventStoreDBRecorder:
        return SwarmlogEventStoreDBRecorder(self.client)

    def tracking_recorder(
        self, tracking_recorder_class: type[TrackingRecorder] | None = None
    ) -> TrackingRecorder:
        if tracking_recorder_class is not None:
            raise ProgrammingError("EventStoreDB keeps swarmlog's tracking itself")
        return SwarmlogEventStoreDBRecorder(self.client)

    def close(self) -> None:
        self.client.close()
