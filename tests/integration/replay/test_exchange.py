"""Export and import: a round trip through the other backend, and bad files refused
with the line at fault and the target store left as it was."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap, read_side
from application.policies.reactions import ALL_POLICIES
from application.replay import imports
from application.replay.export import export_log, open_for_writing
from application.replay.imports import ImportRefused, import_log, open_for_reading
from application.simulation.config import load_config
from application.simulation.runner import simulate
from tests.conftest import postgres_settings, sqlite_settings
from tests.support.read_models import checksums

POLICIES = [policy.name for policy in ALL_POLICIES]


def stored(app: Swarmlog) -> list[tuple[Any, ...]]:
    """The whole log as stored: stream, version, topic and state, in log order."""
    return [
        (n.originator_id, n.originator_version, n.topic, n.state) for n in app.store.notifications()
    ]


def read_models(app: Swarmlog, path: Path) -> dict[str, str]:
    """Every read model built from scratch into a SQLite file, as checksums."""
    settings = app.settings.model_copy(update={"read_model_url": f"sqlite:///{path}"})
    runner = read_side(Swarmlog(settings, app.store, app.bus, app.policies, app.strategies))
    runner.catch_up()
    try:
        return checksums(runner.engine)
    finally:
        runner.engine.dispose()


def export_to(app: Swarmlog, path: Path) -> int:
    with open_for_writing(path, compress=path.suffix == ".gz") as out:
        return export_log(app.store, out)


def import_from(app: Swarmlog, path: Path) -> Any:
    with open_for_reading(path) as lines:
        return import_log(app.store, lines, consumers=POLICIES)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Swarmlog]:
    app = bootstrap(sqlite_settings(tmp_path))
    simulate(app, load_config(None), agents=8, tasks=80, seed=3)
    yield app
    app.close()


@pytest.mark.postgres
def test_sqlite_to_postgres_and_back_keeps_the_log_and_the_read_models(
    source: Swarmlog, tmp_path: Path, postgres_schema: str
) -> None:
    exported = export_to(source, tmp_path / "log.jsonl.gz")
    assert exported == source.store.head()

    on_postgres = bootstrap(postgres_settings(postgres_schema), inline_policies=False)
    report = import_from(on_postgres, tmp_path / "log.jsonl.gz")
    assert (report.events, report.first_position, report.last_position) == (
        exported,
        1,
        exported,
    )
    assert stored(on_postgres) == stored(source)

    export_to(on_postgres, tmp_path / "again.jsonl")
    back = bootstrap(
        Settings(event_store="sqlite", sqlite_path=tmp_path / "back.db"), inline_policies=False
    )
    import_from(back, tmp_path / "again.jsonl")
    assert stored(back) == stored(source)

    # the policies' reactions came with the log: none happens a second time
    assert on_postgres.policies.catch_up() == 0
    assert back.policies.catch_up() == 0
    assert on_postgres.store.head() == back.store.head() == exported

    original = read_models(source, tmp_path / "a.db")
    assert read_models(on_postgres, tmp_path / "b.db") == original
    assert read_models(back, tmp_path / "c.db") == original
    on_postgres.close()
    back.close()


def test_an_export_can_be_filtered_and_is_valid_json_lines(source: Swarmlog) -> None:
    out = io.StringIO()
    start, stop = 100, source.store.head() // 2
    export_log(source.store, out, start=start, stop=stop, types=["Task.Completed", "Task.Failed"])
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records
    assert {r["type"] for r in records} <= {"Task.Completed", "Task.Failed"}
    assert all(start <= r["position"] <= stop for r in records)
    first = records[0]
    assert set(first) >= {
        "position", "stream", "version", "type", "timestamp", "actor",
        "correlation_id", "causation_id", "payload", "topic", "state",
    }  # fmt: skip
    one = io.StringIO()
    export_log(source.store, one, streams=[first["stream"]])
    versions = [json.loads(line)["version"] for line in one.getvalue().splitlines()]
    assert versions == list(range(1, len(versions) + 1))


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Swarmlog]:
    if request.param == "sqlite":
        settings = Settings(event_store="sqlite", sqlite_path=tmp_path / "target.db")
    else:
        settings = postgres_settings(request.getfixturevalue("postgres_schema"))
    app = bootstrap(settings, inline_policies=False)
    yield app
    app.close()


def _lines(source: Swarmlog) -> list[str]:
    out = io.StringIO()
    export_log(source.store, out)
    return out.getvalue().splitlines(keepends=True)


def _edited(line: str, **fields: Any) -> str:
    return json.dumps({**json.loads(line), **fields}) + "\n"


CORRUPTIONS = {
    "bad JSON": lambda lines: [*lines[:20], "{not json\n", *lines[21:]],
    "truncated": lambda lines: [*lines[:20], lines[20][: len(lines[20]) // 2]],
    "unknown type": lambda lines: [
        *lines[:20], _edited(lines[20], topic="domain.task:Task.Vanished"), *lines[21:]
    ],
    "duplicate version": lambda lines: [*lines[:21], lines[20], *lines[21:]],
    "wrong order": lambda lines: [*lines[:20], lines[21], lines[20], *lines[22:]],
    "missing field": lambda lines: [
        *lines[:20], json.dumps({k: v for k, v in json.loads(lines[20]).items()
                                 if k != "stream"}) + "\n", *lines[21:]
    ],
    "state that does not decode": lambda lines: [
        *lines[:20], _edited(lines[20], state="{\"x\": 1}"), *lines[21:]
    ],
}  # fmt: skip


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_export_is_refused_with_its_line_and_nothing_stays(
    source: Swarmlog, target: Swarmlog, corruption: str
) -> None:
    lines = CORRUPTIONS[corruption](_lines(source))
    with pytest.raises(ImportRefused) as refused:
        import_log(target.store, lines, consumers=POLICIES)
    assert refused.value.details["line"] in (21, 22), refused.value.message
    assert refused.value.message.startswith(f"line {refused.value.details['line']}: ")
    assert target.store.head() == 0
    assert all(target.store.recorder.max_tracking_id(name) in (None, 0) for name in POLICIES)


def test_a_truncated_gzip_file_is_refused(source: Swarmlog, tmp_path: Path) -> None:
    export_to(source, tmp_path / "log.jsonl.gz")
    whole = (tmp_path / "log.jsonl.gz").read_bytes()
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    target = bootstrap(Settings(event_store="sqlite", sqlite_path=tmp_path / "t.db"))
    with pytest.raises(ImportRefused, match="truncated"):
        import_from(target, tmp_path / "cut.jsonl.gz")
    assert target.store.head() == 0
    target.close()
    assert gzip.decompress(whole)  # the whole file was fine


def test_a_non_empty_store_is_refused_unless_appending_new_streams(
    source: Swarmlog, tmp_path: Path
) -> None:
    lines = _lines(source)
    with pytest.raises(ImportRefused, match="already holds"):
        import_log(source.store, lines)
    with pytest.raises(ImportRefused, match="already exists"):
        import_log(source.store, lines, append=True)
    head = source.store.head()
    other = bootstrap(Settings(event_store="sqlite", sqlite_path=tmp_path / "other.db"))
    simulate(other, load_config(None), agents=3, tasks=10, seed=9)
    report = import_log(source.store, _lines(other), append=True, consumers=POLICIES)
    assert (report.first_position, report.last_position) == (head + 1, head + other.store.head())
    restarted = bootstrap(source.settings, inline_policies=False)
    assert restarted.policies.catch_up() == 0
    restarted.close()
    other.close()


def test_streams_not_kept_in_memory_are_checked_against_the_import_so_far(
    source: Swarmlog, target: Swarmlog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for only 3 streams (and batches of 2), the versions of the others are read
    back from the import's own transaction: the import is whole, and a gap is still found."""
    monkeypatch.setattr(imports, "STREAMS_KEPT", 3)
    monkeypatch.setattr(imports, "BATCH", 2)
    lines = _lines(source)
    report = import_log(target.store, lines, consumers=POLICIES)
    assert report.events == len(lines)
    assert stored(target) == stored(source)


def test_a_gap_in_a_stream_long_out_of_memory_is_found(
    source: Swarmlog, target: Swarmlog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "STREAMS_KEPT", 3)
    monkeypatch.setattr(imports, "BATCH", 2)
    lines = _lines(source)
    records = [json.loads(line) for line in lines]
    # the last event of the first stream, far from its others: drop its version before
    first = records[0]["stream"]
    mine = [i for i, r in enumerate(records) if r["stream"] == first]
    assert len(mine) >= 3
    victim = mine[-2]
    bad = [line for i, line in enumerate(lines) if i != victim]
    with pytest.raises(ImportRefused, match="a gap") as refused:
        import_log(target.store, bad, consumers=POLICIES)
    assert refused.value.details["line"] == mine[-1]  # its number, one line up
    assert target.store.head() == 0
