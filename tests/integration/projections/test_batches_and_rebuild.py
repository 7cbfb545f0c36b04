"""Every read model is a function of the log alone: catching up in batches of any size,
in the middle of a workload, or rebuilding from scratch gives the same tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from application.bootstrap import bootstrap
from projections.projection import Projection
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.conftest import Clock, sqlite_settings
from tests.integration.projections.conftest import (
    MakeUrl,
    Workload,
    caught_up,
    dump,
    scripted_workload,
)

PROJECTIONS = all_projections()


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_batches_of_1_7_and_1000_and_a_rebuild_give_identical_tables(
    projection: Projection,
    scripted: Workload,
    make_url: MakeUrl,
    engines: Callable[[str], Engine],
) -> None:
    tables = []
    for size in (1, 7, 1000):
        engine = engines(make_url())
        runner = caught_up(scripted.app, engine, [projection], batch_size=size)
        tables.append(dump(engine, projection))
    assert any(tables[0].values())
    assert tables[0] == tables[1] == tables[2]
    assert runner.rebuild(projection)
    assert dump(engine, projection) == tables[0]
    assert runner.status()[0]["generation"] == 2


def test_a_realistic_workload_gives_identical_tables_in_any_batches_and_on_rebuild(
    simulated: Workload, make_url: MakeUrl, engines: Callable[[str], Engine]
) -> None:
    small, large = engines(make_url()), engines(make_url())
    runner = caught_up(simulated.app, small, all_projections(), batch_size=7)
    caught_up(simulated.app, large, all_projections(), batch_size=1000)
    before = {p.name: dump(small, p) for p in PROJECTIONS}
    assert before == {p.name: dump(large, p) for p in PROJECTIONS}
    rebuilder = ProjectionRunner(simulated.app.store, small, all_projections(), batch_size=50)
    for projection in rebuilder.projections:
        assert rebuilder.rebuild(projection)
    assert {p.name: dump(small, p) for p in PROJECTIONS} == before
    assert all(s["generation"] == 2 and s["lag"] == 0 for s in runner.status())


def test_catching_up_during_the_workload_gives_the_tables_of_one_catch_up(
    tmp_path: Path, clock: Clock, make_url: MakeUrl, engines: Callable[[str], Engine]
) -> None:
    app = bootstrap(sqlite_settings(tmp_path / "live"), clock=clock)
    try:
        live = engines(make_url())
        runner = ProjectionRunner(app.store, live, all_projections(), batch_size=5)
        runner.setup()
        steps = []
        scripted_workload(app, clock, step=lambda: steps.append(runner.catch_up()))
        runner.catch_up()
        assert len([n for n in steps if n]) > 5
        once = engines(make_url())
        caught_up(app, once, all_projections(), batch_size=1000)
        for projection in PROJECTIONS:
            assert dump(live, projection) == dump(once, projection), projection.name
    finally:
        app.close()


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_a_batch_reads_each_table_at_most_once(
    projection: Projection,
    simulated: Workload,
    read_model_url: str,
    engines: Callable[[str], Engine],
) -> None:
    """The prefetch loads every row a batch touches: no query per event."""
    engine = engines(read_model_url)
    reads: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "__g1" in statement:
            reads.append(statement)

    caught_up(simulated.app, engine, [projection], batch_size=1000)
    assert len(reads) <= len(projection.columns), reads
    assert reads or projection.name == "audit"  # the audit log only ever inserts
