"""The EventStoreDB adapter's own logic, against an in-process stand-in of the
KurrentDB client (no server): version mapping, non-contiguous positions, atomic
multi-stream appends, tracking, chunked imports. What only a real server can show
(its filters, gRPC errors, subscriptions) is in the contract suite, which runs it
when EVENTSTOREDB_URI is set."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from kurrentdbclient import StreamState
from kurrentdbclient.exceptions import (
    InvalidCommitPositionError,
    NotFoundError,
    WrongCurrentVersionError,
)

import adapters.eventstoredb as esdb
from application.bootstrap import Swarmlog, bootstrap
from application.commands import InitSwarm, JoinSwarm, PauseAgent, SpawnAgent
from application.replay.export import export_log
from application.replay.imports import import_log
from domain.agent import Agent
from tests.conftest import Clock
from tests.contract.conftest import esdb_settings


class FakeClient:
    """Streams and $all in memory; commit positions grow by uneven steps."""

    servers: dict[str, FakeClient] = {}

    def __init__(self) -> None:
        self.streams: dict[str, list[Any]] = {}
        self.all: list[Any] = []
        self.position = 1000
        self.multi_appends = 0

    @classmethod
    def connect(cls, uri: str, root_certificates: str | None = None) -> FakeClient:
        return cls.servers.setdefault(uri, cls())

    def _check(self, name: str, expected: Any) -> None:
        current = len(self.streams.get(name, [])) - 1
        want = -1 if expected is StreamState.NO_STREAM else expected
        if expected is not StreamState.ANY and current != want:
            raise WrongCurrentVersionError(f"{name}: at {current}, expected {want}")

    def _write(self, name: str, events: Any) -> int:
        stream = self.streams.setdefault(name, [])
        for event in events:
            self.position += 37 + len(event.data)
            recorded = SimpleNamespace(
                stream_name=name,
                stream_position=len(stream),
                commit_position=self.position,
                type=event.type,
                data=event.data,
                metadata=event.metadata,
            )
            stream.append(recorded)
            self.all.append(recorded)
        return self.position

    def append_to_stream(self, stream_name: str, *, events: Any, current_version: Any) -> int:
        self._check(stream_name, current_version)
        return self._write(stream_name, events)

    def multi_append_to_stream(self, batches: list[Any]) -> int:
        self.multi_appends += 1
        for batch in batches:
            self._check(batch.stream_name, batch.current_version)
        for batch in batches:
            position = self._write(batch.stream_name, batch.events)
        return position

    def read_stream(
        self,
        stream_name: str,
        *,
        stream_position: int | None = None,
        backwards: bool = False,
        limit: int = 1 << 62,
    ) -> Iterator[Any]:
        if stream_name not in self.streams:
            raise NotFoundError(stream_name)
        events = list(self.streams[stream_name])
        if backwards:
            events.reverse()
            if stream_position is not None:
                events = [e for e in events if e.stream_position <= stream_position]
        elif stream_position is not None:
            events = [e for e in events if e.stream_position >= stream_position]
        yield from events[:limit]

    def _filtered(self, exclude: Any, include: Any) -> list[Any]:
        if include:
            return [e for e in self.all if any(re.search(p, e.type) for p in include)]
        return [e for e in self.all if not any(re.search(p, e.type) for p in exclude)]

    def read_all(
        self,
        *,
        commit_position: int | None = None,
        filter_exclude: Any = (),
        filter_include: Any = (),
        limit: int = 1 << 62,
    ) -> Iterator[Any]:
        if commit_position is not None and commit_position not in {
            e.commit_position for e in self.all
        }:
            raise InvalidCommitPositionError(commit_position)
        events = self._filtered(filter_exclude, filter_include)
        if commit_position is not None:
            events = [e for e in events if e.commit_position >= commit_position]
        yield from events[:limit]

    def get_commit_position(self, *, filter_exclude: Any = ()) -> int:
        events = self._filtered(filter_exclude, ())
        return events[-1].commit_position if events else 0

    def get_current_version(self, stream_name: str) -> Any:
        stream = self.streams.get(stream_name)
        return len(stream) - 1 if stream else StreamState.NO_STREAM

    def close(self) -> None:
        pass


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeClient]:
    FakeClient.servers = {}
    monkeypatch.setattr(esdb, "KurrentDBClient", FakeClient.connect)
    return FakeClient


def app_on(uri: str) -> Swarmlog:
    return bootstrap(esdb_settings(uri), clock=Clock())


def spawn(app: Swarmlog, name: str = "ada", **fields: Any) -> Any:
    command = SpawnAgent(name=name, agent_type="coder", capabilities=["python"], **fields)
    return app.handle(command)


def test_versions_count_from_one_and_streams_from_zero(fake: type[FakeClient]) -> None:
    app = app_on("esdb://one")
    result = spawn(app)
    server = fake.servers["esdb://one"]
    positions = [e.stream_position for e in server.streams[str(result.aggregate_id)]]
    assert positions == list(range(result.version))
    agent = app_on("esdb://one").store.load(Agent, result.aggregate_id)
    assert agent.version == result.version
    assert app.store.load(Agent, result.aggregate_id, version=1).version == 1
    versions = [n.originator_version for n in app.store.notifications()]
    assert versions == list(range(1, result.version + 1))


def test_positions_are_commit_positions_read_from_one_past_the_last(
    fake: type[FakeClient],
) -> None:
    app = app_on("esdb://one")
    for name in ("a", "b", "c"):
        spawn(app, name=name)
    ids = [n.id for n in app.store.notifications(page=2)]  # pages of 2: start = last + 1
    server = fake.servers["esdb://one"]
    assert ids == [e.commit_position for e in server.all if e.type != esdb.TRACKING_TYPE]
    assert ids == sorted(set(ids))
    assert ids[1] - ids[0] > 1
    assert app.store.head() == ids[-1]
    # a start that is no position at all still reads from there on (by a scan)
    middle = ids[len(ids) // 2] - 1
    assert [n.id for n in app.store.notifications(middle)] == [i for i in ids if i >= middle]
    stop = app.store.recorder.select_notifications(start=1, limit=100, stop=ids[1] + 1)
    assert [n.id for n in stop] == ids[:2]


def test_several_aggregates_and_tracking_in_one_atomic_append(fake: type[FakeClient]) -> None:
    app = app_on("esdb://one")
    server = fake.servers["esdb://one"]
    spawn(app)
    assert server.multi_appends == 0  # one stream: a plain append
    spawn(app, name="bob", idempotency_key="k")  # the agent and the idempotency record
    assert server.multi_appends == 1
    recorder = app.store.recorder
    recorder.insert_tracking(Tracking("policy-x", 5))
    assert recorder.max_tracking_id("policy-x") == 5
    assert recorder.has_tracking_id("policy-x", 4)
    with pytest.raises(IntegrityError):
        recorder.insert_tracking(Tracking("policy-x", 5))
    assert all(n.topic != esdb.TRACKING_TYPE for n in app.store.notifications())


def test_idempotency_record_and_conflict(fake: type[FakeClient]) -> None:
    app = app_on("esdb://one")
    first = spawn(app, idempotency_key="k")
    assert spawn(app, idempotency_key="k").repeated
    mine, theirs = (app.store.load(Agent, first.aggregate_id) for _ in range(2))
    mine.pause()
    app.store.save(mine)
    theirs.pause()
    with pytest.raises(IntegrityError):
        app.store.save(theirs)


def test_export_import_keeps_the_log_order(fake: type[FakeClient]) -> None:
    app = app_on("esdb://one")
    agent = spawn(app).aggregate_id
    swarm = app.handle(InitSwarm(name="hive", topology="mesh")).aggregate_id
    app.handle(JoinSwarm(swarm_id=swarm, agent_id=agent))
    app.handle(PauseAgent(agent_id=agent))
    out = io.StringIO()
    export_log(app.store, out)
    target = app_on("esdb://two")
    names = [p.name for p in target.policies.policies]
    report = import_log(target.store, io.StringIO(out.getvalue()), consumers=names)

    def log(of: Swarmlog) -> list[tuple[Any, ...]]:
        return [(n.originator_id, n.originator_version, n.topic) for n in of.store.notifications()]

    assert report.events == len(log(app))
    assert log(target) == log(app)
    assert all(target.store.recorder.max_tracking_id(n) == target.store.head() for n in names)
