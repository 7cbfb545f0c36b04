"""`swarmlog replay ...`: the operators' toolbox for the log.

export and import (moving a deployment between stores too), history and state (time
travel) of one aggregate, verify the whole log, and replay a range into a consumer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from adapters.settings import Settings
from api.cli_projections import opened
from application.bootstrap import Swarmlog, bootstrap
from application.policies.reactions import ALL_POLICIES
from application.replay.export import export_log, open_for_writing
from application.replay.imports import ImportRefused, import_log, open_for_reading
from application.replay.into import policy_reactions
from application.replay.verify import verify as verify_log
from application.time_travel import aggregate_at, state_of, stream_events
from domain.errors import DomainError
from projections.replay import replay_into

replay_app = typer.Typer(help="Export, import, inspect, verify and replay the event log.")
console = Console(stderr=True)
out = Console()

FromOption = Annotated[int, typer.Option("--from", help="First position (inclusive).")]
ToOption = Annotated[int | None, typer.Option("--to", help="Last position (inclusive).")]


@contextmanager
def store_of(settings: Settings | None = None) -> Iterator[Swarmlog]:
    """The configured store, without policies running (replay tools only read, or
    write what was already decided)."""
    swarmlog = bootstrap(settings or Settings(), inline_policies=False)
    try:
        yield swarmlog
    finally:
        swarmlog.close()


@contextmanager
def counting(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar of events (a spinner and a count when the total is unknown)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(label, total=total, rate="-")

        def advance(events: int) -> None:
            progress.advance(bar, events)
            speed = progress.tasks[bar].speed
            progress.update(bar, rate=f"{speed:,.0f}" if speed else "-")

        yield advance


def fail(error: DomainError) -> typer.Exit:
    console.print(f"[red]{error.code}[/]: {error.message}")
    return typer.Exit(1)


@replay_app.command("export")
def export(
    start: FromOption = 1,
    stop: ToOption = None,
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Only this event type (repeatable).")
    ] = None,
    streams: Annotated[
        list[str] | None, typer.Option("--stream", help="Only this stream id (repeatable).")
    ] = None,
    path: Annotated[
        Path | None, typer.Option("--out", help="File to write (stdout when not given).")
    ] = None,
    compress: Annotated[
        bool | None, typer.Option("--gzip/--no-gzip", help="Compress (default: by .gz name).")
    ] = None,
) -> None:
    """Stream events as JSON Lines, in log order, in constant memory."""
    gzip_it = compress if compress is not None else bool(path and path.suffix == ".gz")
    with store_of() as swarmlog:
        head = swarmlog.store.head()
        total = None if (types or streams) else max(0, min(stop or head, head) - start + 1)
        try:
            with (
                open_for_writing(path, compress=gzip_it) as stream,
                counting("export", total) as advance,
            ):
                count = export_log(
                    swarmlog.store,
                    stream,
                    start=start,
                    stop=stop,
                    types=types or (),
                    streams=streams or (),
                    progress=advance,
                )
        except DomainError as error:
            raise fail(error) from None
    console.print(f"[green]exported {count} events[/]" + (f" to {path}" if path else ""))


@replay_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="An export (JSON Lines, gzip or not).")],
    append: Annotated[
        bool, typer.Option("--append", help="Into a non-empty store (new streams only).")
    ] = False,
) -> None:
    """Load an export into the configured store, all of it or (on any error) nothing."""
    if not path.is_file():
        raise typer.BadParameter(f"no file {path}")
    with store_of() as swarmlog, open_for_reading(path) as stream:
        try:
            with counting(f"import {path.name}", None) as advance:
                report = import_log(
                    swarmlog.store,
                    stream,
                    consumers=[policy.name for policy in ALL_POLICIES],
                    append=append,
                    progress=advance,
                )
        except ImportRefused as error:
            console.print("[yellow]nothing was imported")
            raise fail(error) from None
    console.print(
        f"[green]imported {report.events} events of {report.streams} streams[/] "
        f"(positions {report.first_position}..{report.last_position}); "
        "`swarmlog worker` (or `swarmlog serve`) builds the read models from them"
    )


@replay_app.command("history")
def history(stream: Annotated[str, typer.Argument(help="The aggregate's id.")]) -> None:
    """The events of one aggregate, with who caused each and why."""
    with store_of() as swarmlog:
        try:
            events = stream_events(swarmlog.store, stream)
        except DomainError as error:
            raise fail(error) from None
    table = Table(title=f"stream {stream}")
    for column in ("version", "type", "timestamp", "actor", "correlation", "causation"):
        table.add_column(column, justify="right" if column == "version" else "left")
    for event in events:
        table.add_row(
            str(event.originator_version),
            type(event).__qualname__,
            event.timestamp.isoformat(timespec="milliseconds"),
            getattr(event, "actor", "-"),
            getattr(event, "correlation_id", "-")[:8],
            getattr(event, "causation_id", "-")[:8],
        )
    out.print(table)


@replay_app.command("state")
def state(
    stream: Annotated[str, typer.Argument(help="The aggregate's id.")],
    at_version: Annotated[int | None, typer.Option("--at-version")] = None,
    at_time: Annotated[
        datetime | None,
        typer.Option("--at-time", help="ISO time with its offset, e.g. 2026-11-25T10:00:00Z."),
    ] = None,
) -> None:
    """The aggregate as it was at a version or a time, as JSON (time travel)."""
    with store_of() as swarmlog:
        try:
            aggregate = aggregate_at(swarmlog.store, stream, version=at_version, at=at_time)
        except DomainError as error:
            raise fail(error) from None
    body = {"type": type(aggregate).__name__, **state_of(aggregate)}
    out.print_json(json.dumps(body))


@replay_app.command("verify")
def verify() -> None:
    """Walk the whole log and check it; exit 1 with the list of findings if any."""
    with store_of() as swarmlog, counting("verify", swarmlog.store.head()) as advance:
        report = verify_log(swarmlog.store, progress=advance)
    console.print(f"{report.events} events, {report.streams} streams, {report.snapshots} snapshots")
    if report.ok:
        console.print("[green]the log is sound")
        return
    table = Table(title=f"{len(report.findings)} findings")
    for column in ("kind", "position", "stream", "version", "message"):
        table.add_column(column)
    for finding in report.findings:
        table.add_row(
            finding.kind,
            str(finding.position or "-"),
            finding.stream_id or "-",
            str(finding.version or "-"),
            finding.message,
        )
    out.print(table)
    raise typer.Exit(1)


@replay_app.command("into")
def into(
    consumer: Annotated[str, typer.Argument(help="A projection or a policy, by name.")],
    start: FromOption = 1,
    stop: ToOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
) -> None:
    """Replay a range into a consumer without touching its checkpoint."""
    policies = {policy.name: policy for policy in ALL_POLICIES}
    if consumer in policies:
        if not dry_run:
            raise typer.BadParameter(
                "a policy's reactions are commands: replaying them would act twice; "
                "use --dry-run to see them",
                param_hint="--dry-run",
            )
        _policy_dry_run(consumer, start, stop)
        return
    with opened() as runner:
        if consumer not in runner.by_name:
            known = ", ".join(sorted([*runner.by_name, *policies]))
            raise typer.BadParameter(f"no consumer {consumer!r}; there are {known}")
        result = replay_into(
            runner, runner.by_name[consumer], start=start, stop=stop, dry_run=dry_run
        )
    table = Table(title=f"{consumer}: {result.events} events, {len(result.changes)} rows")
    for column in ("change", "table", "key", "columns changed"):
        table.add_column(column)
    for change in result.changes:
        table.add_row(change.kind, change.table, repr(change.key), ", ".join(change.columns))
    out.print(table)
    verb = "written (checkpoint unchanged)" if result.written else "dry run: nothing written"
    console.print(f"[green]{verb}")


def _policy_dry_run(name: str, start: int, stop: int | None) -> None:
    policy = {policy.name: policy for policy in ALL_POLICIES}[name]
    table = Table(title=f"{name}: what it would do")
    for column in ("position", "event", "stream", "command"):
        table.add_column(column)
    with store_of() as swarmlog:
        for reaction in policy_reactions(swarmlog.store, policy, start=start, stop=stop):
            command = reaction.command
            shown = f"{type(command).__name__} {command.model_dump_json()}" if command else "-"
            table.add_row(str(reaction.position), reaction.event_type, reaction.stream_id, shown)
    out.print(table)
    console.print("[green]dry run: nothing written")
