"""`swarmlog projections ...` and `swarmlog worker`: inspect, rebuild and repair read models."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from adapters.settings import Settings
from application.bootstrap import bootstrap, read_side
from projections import admin
from projections.runner import ProjectionRunner
from projections.worker import Worker

projections_app = typer.Typer(help="Inspect, rebuild and repair the read models.")
dead_letters_app = typer.Typer(help="Events a projection could not apply, parked.")
projections_app.add_typer(dead_letters_app, name="dead-letters")
console = Console()


@contextmanager
def opened(settings: Settings | None = None) -> Iterator[ProjectionRunner]:
    swarmlog = bootstrap(settings or Settings(), inline_policies=False)
    runner = read_side(swarmlog)
    try:
        yield runner
    finally:
        runner.engine.dispose()
        swarmlog.close()


def _named(runner: ProjectionRunner, name: str) -> Any:
    if name not in runner.by_name:
        raise typer.BadParameter(f"no projection {name!r}; there are {sorted(runner.by_name)}")
    return runner.by_name[name]


@contextmanager
def events_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over log positions, with events/s and the time left."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(label, total=None, rate="-")

        def advance(reached: int, head: int) -> None:
            progress.update(bar, completed=reached, total=head)
            speed = progress.tasks[bar].speed
            progress.update(bar, rate=f"{speed:,.0f}" if speed else "-")

        yield advance


@projections_app.command("status")
def status() -> None:
    """Each projection: version, checkpoint, head, lag, state and parked events."""
    with opened() as runner:
        rows = runner.status()
    table = Table(title="projections")
    for column in ("name", "version", "generation", "checkpoint", "head", "lag", "state"):
        table.add_column(column, justify="left" if column in ("name", "state") else "right")
    table.add_column("lag (s)", justify="right")
    table.add_column("dead letters", justify="right")
    table.add_column("worker")
    for row in rows:
        table.add_row(
            *(str(row[k]) for k in ("name", "version", "generation", "checkpoint", "head", "lag")),
            row["state"],
            f"{row['lag_seconds']:.1f}",
            str(row["dead_letters"]),
            row["owner"] or "-",
        )
    console.print(table)


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[str | None, typer.Argument(help="The projection to rebuild.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Rebuild every projection.")] = False,
) -> None:
    """Build a projection's next generation beside the live one, then swap it in."""
    if (name is None) == (not all_):
        raise typer.BadParameter("give a projection NAME or --all")
    with opened() as runner:
        targets = list(runner.projections) if all_ else [_named(runner, name or "")]
        label = ", ".join(p.name for p in targets)
        cancel = threading.Event()
        with _interruptible(cancel), events_progress(f"rebuild {label}") as advance:
            done = runner.rebuild_many(targets, progress=advance, cancel=cancel)
        if not done:
            console.print(f"[yellow]{label}: cancelled; run again to resume")
            raise typer.Exit(1)
        console.print(f"[green]{label}: rebuilt and swapped in")


@projections_app.command("reset")
def reset(name: str) -> None:
    """Empty a projection and run it again from the start (readers see it empty)."""
    with opened() as runner:
        _named(runner, name)
        admin.reset(runner, name)
        with events_progress(f"catch up {name}") as advance:
            runner.catch_up(advance, only=[runner.by_name[name]])
    console.print(f"[green]{name}: reset and caught up")


@dead_letters_app.command("list")
def dead_letters_list(name: Annotated[str | None, typer.Argument()] = None) -> None:
    """The parked events (of one projection, or all)."""
    with opened() as runner:
        rows = admin.dead_letters(runner, name)
    table = Table(title="dead letters")
    for column in ("projection", "position", "event_type", "attempts", "status", "error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["projection"],
            str(row["position"]),
            row["event_type"],
            str(row["attempts"]),
            row["status"],
            row["error"][:120],
        )
    console.print(table)


@dead_letters_app.command("retry")
def dead_letters_retry(name: str, position: int) -> None:
    """Apply a parked event again, once its fault is fixed."""
    with opened() as runner:
        _named(runner, name)
        try:
            admin.retry_dead_letter(runner, name, position)
        except LookupError as error:
            raise typer.BadParameter(str(error)) from None
    console.print(f"[green]{name}: the event at {position} is applied")


@dead_letters_app.command("skip")
def dead_letters_skip(name: str, position: int) -> None:
    """Give up on a parked event (it stays listed as skipped)."""
    with opened() as runner:
        _named(runner, name)
        try:
            admin.skip_dead_letter(runner, name, position)
        except LookupError as error:
            raise typer.BadParameter(str(error)) from None
    console.print(f"{name}: the event at {position} is skipped")


def worker(
    poll: Annotated[float, typer.Option(help="Seconds between polls where no push exists.")] = 0.2,
) -> None:
    """Run every projection continuously until stopped (SIGTERM or Ctrl-C: a clean stop)."""
    stop = threading.Event()
    settings = Settings()
    with opened(settings) as runner, _interruptible(stop):
        console.print(f"worker: {len(runner.projections)} projections; stop with SIGTERM")
        Worker(runner, settings, poll_seconds=poll).run(stop)
    console.print("worker: stopped cleanly")


@contextmanager
def _interruptible(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` instead of killing the process mid-batch."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
