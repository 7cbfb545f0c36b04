"""`swarmlog neural ...`: train, evaluate, inspect, export and import the neural engine.

Every subcommand goes through the process's :class:`~adapters.neural.service.NeuralService`
(``Swarmlog.neural()``), so what it records (versions, activations) is in the log as
events, exactly as when the API or `swarmlog serve` does it.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapters.settings import Settings
from application.bootstrap import bootstrap
from domain.errors import DomainError

if TYPE_CHECKING:
    from adapters.neural.service import NeuralService

neural_app = typer.Typer(help="Train, evaluate, inspect, export and import the neural engine.")
console = Console()


@contextmanager
def opened() -> Iterator[NeuralService]:
    swarmlog = bootstrap(Settings(), inline_policies=False)
    try:
        yield swarmlog.neural()
    except DomainError as error:
        console.print(f"[red]{error.code}[/]: {error.message}")
        raise typer.Exit(1) from None
    finally:
        swarmlog.close()


@neural_app.command("train")
def train(
    full: Annotated[
        bool, typer.Option("--full", help="Retrain from scratch on the whole log.")
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep following the log, training as examples arrive.")
    ] = False,
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between looks at the log.")] = 1.0,
) -> None:
    """Train once (an update from the new examples, or --full), or keep following the log."""
    with opened() as service:
        if full or not follow:
            with Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                bars: dict[str, Any] = {}

                def report(phase: str, done: int, total: int) -> None:
                    if phase not in bars:
                        bars[phase] = progress.add_task(phase, total=total)
                    progress.update(bars[phase], completed=done, total=total)

                version = service.retrain(progress=report) if full else service.follow_once()
            if version is None:
                status = service.status()
                console.print(
                    f"no new version: {status['pending']} examples wait for the next update "
                    f"(every {service.config.update_every}); use --full to retrain now"
                )
            else:
                active = service.status()["active"]
                console.print(
                    f"version {version.number} ({version.kind}) learned from positions "
                    f"{version.first_position}-{version.last_position}, "
                    f"{version.examples} examples; active version: {active}"
                )
        if follow:
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            console.print("following the log (Ctrl-C stops)")
            service.follow(stop, poll_seconds=poll)


@neural_app.command("evaluate")
def evaluate(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The active model's held-out metrics on the examples it has not learned from."""
    with opened() as service:
        found = service.evaluate()
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    seen = "unseen" if found["unseen"] else "newest (possibly seen)"
    table = Table(title=f"version {found['version']} on {found['examples']} {seen} examples")
    table.add_column("pattern")
    for name in ("count", "accuracy", "log_loss", "ece"):
        table.add_column(name, justify="right")
    for pattern, metrics in found["metrics"].items():
        table.add_row(
            pattern, *(_number(metrics.get(n)) for n in ("count", "accuracy", "log_loss", "ece"))
        )
    console.print(table)


@neural_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every model version (kind, span, examples, held-out accuracy) and the active one."""
    with opened() as service:
        found = service.status()
    if as_json:
        typer.echo(json.dumps(found, indent=2, default=str))
        return
    table = Table(title=f"model versions (active: {found['active']})")
    for name in ("version", "kind", "span", "examples", "accuracy", "sha256", "source"):
        table.add_column(name)
    for v in found["versions"]:
        accuracy = v["metrics"].get("outcome", {}).get("accuracy")
        mark = " *" if v["number"] == found["active"] else ""
        table.add_row(
            f"{v['number']}{mark}",
            v["kind"],
            f"{v['first_position']}-{v['last_position']}",
            str(v["examples"]),
            _number(accuracy),
            v["sha256"][:12],
            v["source"],
        )
    console.print(table)
    console.print(
        f"examples: {found['examples']}, checkpoint {found['checkpoint']} of {found['head']}, "
        f"{found['pending']} pending; weights in {found['model_dir']}"
    )


@neural_app.command("export")
def export(path: Annotated[Path, typer.Argument(help="The file to write.")]) -> None:
    """Write the active version (weights, configuration, metadata, checksum) to PATH."""
    with opened() as service:
        found = service.export(path)
    console.print(
        f"version {found['version']} written to {found['path']} (sha256 {found['sha256']})"
    )


@neural_app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="A file `neural export` wrote.")]) -> None:
    """Verify PATH, record it as a new version and activate it (nothing changes if bad)."""
    with opened() as service:
        found = service.import_(path)
    console.print(f"{path} imported as version {found['version']}, now active")


def _number(value: Any) -> str:
    return "-" if value is None else f"{float(value):.3f}"
