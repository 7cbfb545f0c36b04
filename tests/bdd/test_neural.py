"""Steps of features/neural.feature: `swarmlog neural` through the CLI, and the neural
strategy through the command bus."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import Result
from pytest_bdd import given, parsers, scenarios, then, when
from typer.testing import CliRunner

from adapters.settings import Settings
from api.cli import app as cli
from application.bootstrap import Swarmlog, bootstrap
from application.commands import AssignTask, CreateTask
from application.simulation.config import load_config
from application.simulation.runner import simulate
from domain.task import Task

scenarios("neural.feature")


@dataclass
class Operator:
    settings: Settings
    result: Result | None = None
    task: UUID | None = None
    before: list[Any] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            "SWARMLOG_EVENT_STORE": "sqlite",
            "SWARMLOG_SQLITE_PATH": str(self.settings.sqlite_path),
            "READ_MODEL_URL": self.settings.read_model_url,
            "SWARMLOG_NEURAL_MODEL_DIR": str(self.settings.neural_model_dir),
            "COLUMNS": "200",
        }

    def run(self, *args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(cli, list(args), env=self.env(), terminal_width=200)
        if ok:
            assert result.exit_code == 0, result.output
        self.result = result
        return result

    def app(self) -> Swarmlog:
        return bootstrap(self.settings)


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    settings = Settings(
        event_store="sqlite",
        sqlite_path=tmp_path / "events.db",
        read_model_url=f"sqlite:///{tmp_path / 'read_models.db'}",
        neural_model_dir=tmp_path / "models",
    )
    return Operator(settings)


def _status(operator: Operator) -> dict[str, Any]:
    app = operator.app()
    try:
        found: dict[str, Any] = app.neural().status()
        return found
    finally:
        app.close()


def _predictions(operator: Operator) -> list[tuple[float, ...]]:
    """The model's outcome probabilities for the first ten finished attempts' pairs."""
    app = operator.app()
    try:
        service = app.neural()
        pairs = []
        for notification in app.store.notifications(topics=[]):
            event: Any = app.store.decode(notification)
            if isinstance(event, Task.Completed | Task.Failed):
                pairs.append((event.originator_id, event.agent_id))
            if len(pairs) == 10:
                break
        return [tuple(service.predict_outcome(t, a).probabilities) for t, a in pairs]
    finally:
        app.close()


@given(parsers.parse("a swarm that has worked through {tasks:d} tasks"))
def worked(operator: Operator, tasks: int) -> None:
    app = operator.app()
    simulate(app, load_config(None), agents=10, tasks=tasks, seed=6)
    app.close()


@given("the neural engine has been trained")
@when("the operator trains the neural engine")
def train(operator: Operator) -> None:
    operator.run("neural", "train", "--full")
    operator.before = _predictions(operator)


@when("the operator asks for the neural engine's status")
def status(operator: Operator) -> None:
    operator.run("neural", "status")


@then("version 1 is listed as active, learned from the log, with its accuracy")
def version_listed(operator: Operator) -> None:
    assert operator.result is not None
    row = next(line for line in operator.output_lines() if line.strip("│ ").startswith("1 *"))
    assert "full" in row
    assert "0." in row  # its held-out accuracy
    found = _status(operator)
    assert found["active"] == 1
    (version,) = found["versions"]
    assert 0 < version["first_position"] <= version["last_position"] <= found["head"]


def _output_lines(self: Operator) -> list[str]:
    assert self.result is not None
    return self.result.output.splitlines()


Operator.output_lines = _output_lines  # type: ignore[attr-defined]


@when(parsers.parse('the operator exports the model to "{name}"'))
def export(operator: Operator, name: str) -> None:
    operator.run("neural", "export", str(Path(operator.settings.neural_model_dir) / name))


@when(parsers.parse('the operator imports "{name}"'))
def import_(operator: Operator, name: str) -> None:
    operator.run("neural", "import", str(Path(operator.settings.neural_model_dir) / name))


@when("the operator imports a file that is not a model")
def import_junk(operator: Operator) -> None:
    junk = Path(operator.settings.neural_model_dir) / "junk.model"
    junk.write_bytes(b"\x00\x01 definitely not a model")
    operator.run("neural", "import", str(junk), ok=False)


@then(parsers.parse("version {number:d} is active"))
@then(parsers.parse("version {number:d} is still active"))
def active(operator: Operator, number: int) -> None:
    assert _status(operator)["active"] == number


@then("its predictions equal those of version 1")
def same_predictions(operator: Operator) -> None:
    after = _predictions(operator)
    assert len(after) == len(operator.before) == 10
    for mine, theirs in zip(after, operator.before, strict=True):
        assert mine == pytest.approx(theirs, abs=1e-6)


@then(parsers.parse('the import is refused with "{code}"'))
def refused(operator: Operator, code: str) -> None:
    assert operator.result is not None
    assert operator.result.exit_code != 0
    assert code in operator.result.output


@given("the neural strategy acts on predictions of any confidence")
def any_confidence(operator: Operator) -> None:
    operator.settings = operator.settings.model_copy(update={"neural_min_confidence": 0.0})


@given(parsers.parse("the neural strategy needs a confidence of {level:g}"))
def needs_confidence(operator: Operator, level: float) -> None:
    operator.settings = operator.settings.model_copy(update={"neural_min_confidence": level})


@then(parsers.parse("its assignment note says the confidence fell short of {level:g}"))
def fell_short(operator: Operator, level: float) -> None:
    note = _task(operator).assignment_note
    assert note.startswith("fallback: confidence ")
    assert note.endswith(f"< {level:g}")


@when(parsers.parse('a new task is assigned in the swarm with the "{strategy}" strategy'))
def assign(operator: Operator, strategy: str) -> None:
    """A task like those the swarm completed most often, in the swarm that did them."""
    app = operator.app()
    try:
        done = {
            app.store.decode(n).originator_id
            for n in app.store.notifications()
            if n.topic.endswith(":Task.Completed")
        }
        kinds: Counter[tuple[str, tuple[str, ...], UUID]] = Counter()
        for task_id in done:
            task = app.store.load(Task, task_id)
            if task.swarm_id is not None:
                kinds[(task.task_type, tuple(task.required_capabilities), task.swarm_id)] += 1
        (task_type, capabilities, swarm), _ = kinds.most_common(1)[0]
        task = app.handle(
            CreateTask(
                description="probe",
                task_type=task_type,
                required_capabilities=list(capabilities),
            )
        ).aggregate_id
        app.handle(AssignTask(task_id=task, swarm_id=swarm, strategy=strategy))
        operator.task = task
    finally:
        app.close()


def _task(operator: Operator) -> Any:
    app = operator.app()
    try:
        assert operator.task is not None
        return app.store.load(Task, operator.task)
    finally:
        app.close()


@then("the task is assigned")
def assigned(operator: Operator) -> None:
    task = _task(operator)
    assert task.status == "assigned"
    assert task.assignment_strategy == "neural"


@then(parsers.parse('its assignment note reads "{note}"'))
def note_reads(operator: Operator, note: str) -> None:
    assert _task(operator).assignment_note == note


@then(parsers.parse("its assignment note names model version {number:d}"))
def note_names(operator: Operator, number: int) -> None:
    assert _task(operator).assignment_note.startswith(f"model v{number},")
