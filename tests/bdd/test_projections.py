"""Steps of features/projections.feature: the operator's commands through the real CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from typer.testing import CliRunner

import application.bootstrap
from adapters.settings import Settings
from api.cli import app as cli
from application.bootstrap import Swarmlog, bootstrap, read_side
from application.commands import SpawnAgent
from application.simulation.config import load_config
from application.simulation.runner import simulate
from domain.agent import Agent
from projections.agents import AgentsProjection
from projections.changes import Changes
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.support.read_models import contents

scenarios("projections.feature")


class Fragile(AgentsProjection):
    """A read model with a fault: it cannot apply the spawning of agents named "poison"."""

    name: ClassVar[str] = "fragile"
    table: ClassVar[str] = "fragile_agents"
    columns = {"fragile_agents": AgentsProjection.columns["agents"]}
    broken: ClassVar[bool] = True

    def spawned(self, changes: Changes, event: Agent.Spawned) -> None:  # type: ignore[override]
        if Fragile.broken and event.name == "poison":
            raise RuntimeError("this read model cannot show agents named poison")
        super().spawned(changes, event)


@dataclass
class Operator:
    app: Swarmlog
    settings: Settings
    monkeypatch: pytest.MonkeyPatch
    output: str = ""
    before: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def run(self, *args: str) -> str:
        result = CliRunner().invoke(cli, list(args), env=self.env, terminal_width=200)
        assert result.exit_code == 0, result.output
        self.output = result.output
        return result.output

    @property
    def env(self) -> dict[str, str]:
        return {
            "SWARMLOG_EVENT_STORE": "sqlite",
            "SWARMLOG_SQLITE_PATH": str(self.settings.sqlite_path),
            "READ_MODEL_URL": self.settings.read_model_url,
            "COLUMNS": "200",
        }

    def runner(self) -> ProjectionRunner:
        return read_side(self.app)

    def status(self) -> dict[str, dict[str, Any]]:
        runner = self.runner()
        try:
            return {row["name"]: row for row in runner.status()}
        finally:
            runner.engine.dispose()


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Operator]:
    settings = Settings(
        event_store="sqlite",
        sqlite_path=tmp_path / "events.db",
        read_model_url=f"sqlite:///{tmp_path / 'read_models.db'}",
    )
    app = bootstrap(settings)
    Fragile.broken = True
    yield Operator(app, settings, monkeypatch)
    app.close()


def _names() -> list[str]:
    return [p.name for p in application.bootstrap.all_projections()]


@given(parsers.parse("a swarm that has worked through {tasks:d} tasks"))
def worked(operator: Operator, tasks: int) -> None:
    simulate(operator.app, load_config(None), agents=4, tasks=tasks, seed=8)


@given('a read model that cannot apply agents named "poison"')
def fragile_read_model(operator: Operator) -> None:
    operator.monkeypatch.setattr(
        application.bootstrap, "all_projections", lambda: [*all_projections(), Fragile()]
    )


@given(parsers.parse('an agent named "{name}" has been spawned'))
def spawned(operator: Operator, name: str) -> None:
    operator.app.handle(SpawnAgent(name=name, agent_type="coder", capabilities=["python"]))


@given("the worker has caught up")
@when("the worker has caught up")
def caught_up(operator: Operator) -> None:
    runner = operator.runner()
    runner.catch_up()
    operator.before = contents(runner.engine)
    runner.engine.dispose()


@when("the operator asks for the status of the projections")
def ask_status(operator: Operator) -> None:
    operator.run("projections", "status")


@when(parsers.parse('the operator rebuilds the "{name}" read model'))
def rebuild_one(operator: Operator, name: str) -> None:
    operator.run("projections", "rebuild", name)


@when("the operator rebuilds every read model")
def rebuild_all(operator: Operator) -> None:
    operator.run("projections", "rebuild", "--all")


@when(parsers.parse('the operator resets the "{name}" read model'))
def reset(operator: Operator, name: str) -> None:
    operator.run("projections", "reset", name)


@when(parsers.parse('the fault is fixed and the operator retries the dead letter of "{name}"'))
def retry(operator: Operator, name: str) -> None:
    Fragile.broken = False
    operator.run("projections", "dead-letters", "retry", name, str(_parked(operator, name)))


@when(parsers.parse('the operator skips the dead letter of "{name}"'))
def skip(operator: Operator, name: str) -> None:
    operator.run("projections", "dead-letters", "skip", name, str(_parked(operator, name)))


def _parked(operator: Operator, name: str) -> int:
    from projections import admin

    runner = operator.runner()
    try:
        return next(
            d["position"] for d in admin.dead_letters(runner, name) if d["status"] == "parked"
        )
    finally:
        runner.engine.dispose()


@then("every read model is listed")
def all_listed(operator: Operator) -> None:
    for name in _names():
        assert name in operator.output


@then("every read model is behind by the whole log")
def all_behind(operator: Operator) -> None:
    head = operator.app.store.head()
    assert {row["lag"] for row in operator.status().values()} == {head}


@then("every read model is up to date")
def all_up_to_date(operator: Operator) -> None:
    assert {row["lag"] for row in operator.status().values()} == {0}


@then(parsers.parse('the "{name}" read model is up to date'))
def one_up_to_date(operator: Operator, name: str) -> None:
    assert operator.status()[name]["lag"] == 0


@then(parsers.parse('the "{name}" read model is on generation {generation:d}'))
def on_generation(operator: Operator, name: str, generation: int) -> None:
    assert operator.status()[name]["generation"] == generation


@then(parsers.parse("every read model is on generation {generation:d}"))
def all_on_generation(operator: Operator, generation: int) -> None:
    assert {row["generation"] for row in operator.status().values()} == {generation}


@then("the read models hold what they held before")
def same_content(operator: Operator) -> None:
    runner = operator.runner()
    try:
        assert contents(runner.engine) == operator.before
    finally:
        runner.engine.dispose()


@then(parsers.re(r'the "(?P<name>[^"]+)" read model has (?P<count>\d+) dead letters?'))
def dead_letter_count(operator: Operator, name: str, count: str) -> None:
    assert operator.status()[name]["dead_letters"] == int(count)


@then(parsers.parse('the dead letters list an "{event_type}" event of "{name}"'))
def listed(operator: Operator, event_type: str, name: str) -> None:
    output = operator.run("projections", "dead-letters", "list", name)
    assert event_type in output
    assert "parked" in output


@then(parsers.parse('the dead letters list a skipped event of "{name}"'))
def listed_skipped(operator: Operator, name: str) -> None:
    assert "skipped" in operator.run("projections", "dead-letters", "list", name)


@then(parsers.parse('the "{name}" read model shows the agent "{agent}"'))
def shows_agent(operator: Operator, name: str, agent: str) -> None:
    runner = operator.runner()
    try:
        view = runner.by_name[name].views()
        table = next(iter(view.values()))
        with runner.engine.connect() as conn:
            names = [row.name for row in conn.execute(table.select())]
    finally:
        runner.engine.dispose()
    assert agent in names
