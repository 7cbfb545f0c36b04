"""The audit log: exactly one row per event of the log, with its actor, correlation and
causation, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from domain.access import AccessRefusal
from domain.agent import Agent
from domain.base import SwarmlogAggregate
from domain.neural import ModelRegistry
from domain.proposal import Proposal
from domain.swarm import Swarm
from domain.task import Task
from projections.audit import AUDITED_EVENTS, AuditProjection
from projections.queries import AuditEntry, audit_log
from tests.integration.helpers import events
from tests.integration.projections.conftest import Workload, caught_up


def whole_log(engine: Engine) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    with engine.connect() as conn:
        while page := audit_log(conn, after=entries[-1].cursor if entries else None, limit=1000):
            entries += page
    return entries


@pytest.mark.parametrize("workload", ["scripted", "simulated"])
def test_one_row_per_event_with_its_context(
    workload: str,
    request: pytest.FixtureRequest,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    source: Workload = request.getfixturevalue(workload)
    engine = engines(read_model_url)
    caught_up(source.app, engine, [AuditProjection()])
    logged = events(source.app)
    entries = whole_log(engine)
    assert len(entries) == len(logged) == source.app.store.head()
    by_key = {(e.stream_id, e.version): e for e in entries}
    assert len(by_key) == len(entries)
    for event in logged:
        entry = by_key[(str(event.originator_id), event.originator_version)]
        assert (
            entry.event_type,
            entry.actor,
            entry.correlation_id,
            entry.causation_id,
            entry.occurred_at,
        ) == (
            type(event).__qualname__,
            event.actor,
            event.correlation_id,
            event.causation_id,
            event.timestamp,
        )


def test_commands_and_the_reactions_they_cause_are_told_apart(
    scripted: Workload, read_model_url: str, engines: Callable[[str], Engine]
) -> None:
    engine = engines(read_model_url)
    caught_up(scripted.app, engine, [AuditProjection()], batch_size=1000)
    entries = whole_log(engine)
    assert {"alice", "bob", "carol", "system"} <= {e.actor for e in entries}
    assert any(e.correlation_id == "corr-1" for e in entries)
    # a policy's reaction is caused by an event, within its command's correlation
    assert any(e.correlation_id != e.causation_id for e in entries)


def test_every_event_class_of_the_four_aggregates_is_audited() -> None:
    for aggregate in (Agent, Swarm, Task, Proposal):
        for value in vars(aggregate).values():
            is_event = isinstance(value, type) and issubclass(value, aggregate.Event)
            if is_event and value is not aggregate.Event:
                assert value in AUDITED_EVENTS, value
    assert set(AuditProjection()._handlers) == set(AUDITED_EVENTS)
    assert all(issubclass(kind, SwarmlogAggregate.Event) for kind in AUDITED_EVENTS)


def test_the_scripted_workload_makes_every_kind_of_event(scripted: Workload) -> None:
    made = {type(e) for e in events(scripted.app)}
    never = {Agent.Created, Swarm.Created}  # bases the library adds; never triggered
    # refusals come from the API (tests/e2e/test_role_matrix.py), not from commands
    never |= {AccessRefusal.Created, AccessRefusal.Recorded}
    # the model registry records what the neural engine trains (tests/integration/neural)
    never |= {ModelRegistry.Created, ModelRegistry.Opened}
    never |= {ModelRegistry.VersionRecorded, ModelRegistry.VersionActivated}
    assert made == set(AUDITED_EVENTS) - never
