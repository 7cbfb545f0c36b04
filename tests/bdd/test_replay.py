"""Steps of features/replay.feature: the operator's `swarmlog replay` through the CLI."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import Result
from pytest_bdd import given, parsers, scenarios, then, when
from typer.testing import CliRunner

from adapters.settings import Settings
from api.cli import app as cli
from application.bootstrap import Swarmlog, bootstrap, read_side
from application.simulation.config import load_config
from application.simulation.runner import simulate
from tests.support.read_models import checksums

scenarios("replay.feature")


@dataclass
class Operator:
    directory: Path
    app: Swarmlog
    result: Result | None = None
    before: dict[str, str] | None = None

    def env(self, store: Path | None = None) -> dict[str, str]:
        return {
            "SWARMLOG_EVENT_STORE": "sqlite",
            "SWARMLOG_SQLITE_PATH": str(store or self.app.settings.sqlite_path),
            "READ_MODEL_URL": self.app.settings.read_model_url,
            "COLUMNS": "200",
        }

    def run(self, *args: str, store: Path | None = None, ok: bool = True) -> Result:
        result = CliRunner().invoke(cli, list(args), env=self.env(store), terminal_width=200)
        if ok:
            assert result.exit_code == 0, result.output
        self.result = result
        return result

    @property
    def output(self) -> str:
        assert self.result is not None
        return self.result.output

    @property
    def new_store(self) -> Path:
        return self.directory / "new.db"

    def first_task(self) -> str:
        tasks = [
            n.originator_id
            for n in self.app.store.notifications()
            if n.topic.endswith("Task.Created")
        ]
        return str(tasks[0])


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[Operator]:
    settings = Settings(
        event_store="sqlite",
        sqlite_path=tmp_path / "events.db",
        read_model_url=f"sqlite:///{tmp_path / 'read_models.db'}",
    )
    app = bootstrap(settings)
    yield Operator(tmp_path, app)
    app.close()


def _log(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        ).fetchall()


@given(parsers.parse("a swarm that has worked through {tasks:d} tasks"))
def worked(operator: Operator, tasks: int) -> None:
    simulate(operator.app, load_config(None), agents=4, tasks=tasks, seed=5)


@given(parsers.parse('the operator has exported the log to "{name}"'))
@when(parsers.parse('the operator exports the log to "{name}"'))
def export(operator: Operator, name: str) -> None:
    operator.run("replay", "export", "--out", str(operator.directory / name))
    assert "exported" in operator.output


@given(parsers.parse('line {number:d} of "{name}" is cut in half'))
def cut(operator: Operator, number: int, name: str) -> None:
    path = operator.directory / name
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: number - 1]) + lines[number - 1][:40])


@when(parsers.parse('the operator imports "{name}" into an empty store'))
def import_(operator: Operator, name: str) -> None:
    path = str(operator.directory / name)
    operator.run("replay", "import", path, store=operator.new_store, ok=False)


@then("the new store holds the same events in the same order")
def same_log(operator: Operator) -> None:
    assert operator.result is not None
    assert operator.result.exit_code == 0, operator.output
    assert _log(operator.new_store) == _log(operator.app.settings.sqlite_path)


@then("verifying the new store finds nothing wrong")
def verified(operator: Operator) -> None:
    operator.run("replay", "verify", store=operator.new_store)
    assert "the log is sound" in operator.output


@then(parsers.parse("the import fails naming line {number:d}"))
def import_failed(operator: Operator, number: int) -> None:
    assert operator.result is not None
    assert operator.result.exit_code == 1
    assert f"line {number}:" in operator.output
    assert "nothing was imported" in operator.output


@then("the new store is empty")
def new_store_empty(operator: Operator) -> None:
    assert _log(operator.new_store) == []


@when("the operator asks for the history of the first task")
def history(operator: Operator) -> None:
    operator.run("replay", "history", operator.first_task())


@then("it lists the task's events in version order")
def listed_in_order(operator: Operator) -> None:
    events = list(operator.app.store.events.get(UUID(operator.first_task())))
    rows = [line for line in operator.output.splitlines() if "Task." in line]
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        assert type(event).__qualname__ in row
        assert row.split("│")[1].strip() == str(event.originator_version)


@then(parsers.parse('each event shows its actor "{actor}"'))
def actor_shown(operator: Operator, actor: str) -> None:
    rows = [line for line in operator.output.splitlines() if "Task." in line]
    assert rows
    assert all(actor in row for row in rows)


@when(parsers.parse("the operator asks for the state of the first task at version {version:d}"))
def state(operator: Operator, version: int) -> None:
    operator.run("replay", "state", operator.first_task(), "--at-version", str(version))


@then(parsers.parse('the state is a Task at version {version:d} with status "{status}"'))
def state_is(operator: Operator, version: int, status: str) -> None:
    body = json.loads(operator.output)
    assert (body["type"], body["version"], body["status"]) == ("Task", version, status)


@given("an event in the middle of the log has been deleted behind swarmlog's back")
def deleted(operator: Operator) -> None:
    path = operator.app.settings.sqlite_path
    with sqlite3.connect(path) as db:
        (rowid,) = db.execute(
            "SELECT rowid FROM stored_events WHERE originator_version = 2 "
            "ORDER BY rowid LIMIT 1 OFFSET 5"
        ).fetchone()
        db.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))


@when("the operator verifies the log")
def verify(operator: Operator) -> None:
    operator.run("replay", "verify", ok=False)


@then(parsers.parse('verify fails and reports a "{kind}"'))
def verify_failed(operator: Operator, kind: str) -> None:
    assert operator.result is not None
    assert operator.result.exit_code == 1, operator.output
    assert kind in operator.output


@given("the worker has caught up")
def caught_up(operator: Operator) -> None:
    runner = read_side(operator.app)
    runner.catch_up()
    operator.before = checksums(runner.engine)
    runner.engine.dispose()


@given("a task's row in the tasks read model was damaged")
def damaged(operator: Operator) -> None:
    path = operator.app.settings.read_model_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE tasks__g1 SET status = 'cancelled' WHERE task_id = ?",
            (operator.first_task(),),
        )


@when(parsers.parse('the operator replays the log into "{name}" as a dry run'))
def replay_dry(operator: Operator, name: str) -> None:
    operator.run("replay", "into", name, "--dry-run")


@when(parsers.parse('the operator replays the log into "{name}"'))
def replay_for_real(operator: Operator, name: str) -> None:
    operator.run("replay", "into", name)


@then(parsers.parse('the damaged row is shown as an update of "{column}"'))
def shown(operator: Operator, column: str) -> None:
    rows = [line for line in operator.output.splitlines() if operator.first_task() in line]
    assert len(rows) == 1, operator.output
    assert "update" in rows[0]
    assert column in rows[0]
    assert "dry run: nothing written" in operator.output


def _read_models(operator: Operator) -> dict[str, str]:
    runner = read_side(operator.app)
    try:
        return checksums(runner.engine)
    finally:
        runner.engine.dispose()


@then("the tasks read model is still damaged")
def still_damaged(operator: Operator) -> None:
    assert operator.before is not None
    assert _read_models(operator)["tasks"] != operator.before["tasks"]


@then("the tasks read model is whole again")
def whole(operator: Operator) -> None:
    assert _read_models(operator) == operator.before


@then("the commands it would issue are listed")
def commands_listed(operator: Operator) -> None:
    assert "TakeTask" in operator.output
    assert "ReleaseTask" in operator.output


@then(parsers.parse('replaying "{name}" for real is refused'))
def refused(operator: Operator, name: str) -> None:
    result = operator.run("replay", "into", name, ok=False)
    assert result.exit_code == 2
    assert "--dry-run" in result.output
