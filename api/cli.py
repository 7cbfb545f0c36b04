"""The `swarmlog` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from adapters.config_check import check_command
from adapters.config_error import ConfigurationError
from adapters.settings import Settings
from api.cli_neural import neural_app
from api.cli_projections import projections_app, worker
from api.cli_replay import replay_app
from api.cli_serve import serve
from api.cli_token import token
from application.bootstrap import bootstrap
from application.simulation.config import load_config
from application.simulation.runner import SimulationReport, simulate

app = typer.Typer(help="swarmlog: an event-sourced backend for swarms of AI agents.")
app.add_typer(projections_app, name="projections")
app.add_typer(replay_app, name="replay")
app.add_typer(neural_app, name="neural")
app.command("worker")(worker)
app.command("serve")(serve)
app.command("token")(token)
console = Console()


@app.callback()
def main_callback(ctx: typer.Context) -> None:
    """Commands of swarmlog; settings come from SWARMLOG_* environment variables."""
    try:  # the configuration is checked before any command touches a store
        check_command(ctx.invoked_subcommand)
    except ConfigurationError as error:
        typer.echo(f"invalid configuration: {error}", err=True)
        raise typer.Exit(2) from None


@app.command("simulate")
def simulate_command(
    agents: Annotated[int, typer.Option(min=1, help="Agents to spawn.")] = 20,
    tasks: Annotated[int, typer.Option(min=0, help="Tasks to create and run.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same run.")] = 1,
    strategy: Annotated[
        str, typer.Option(help="Assignment strategy: capability, least_loaded, round_robin.")
    ] = "capability",
    config: Annotated[
        Path | None, typer.Option(help="Ground-truth file (TOML); default: built in.")
    ] = None,
) -> None:
    """Drive a simulated workload through the real command bus into the event store."""
    settings = Settings()
    swarmlog = bootstrap(settings)
    if strategy not in swarmlog.strategies:
        raise typer.BadParameter(f"unknown strategy; use one of {sorted(swarmlog.strategies)}")
    ground_truth = load_config(config)
    console.print(f"event store: [bold]{settings.event_store}[/] ({_where(settings)})")
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task("tasks finished", total=tasks)
        report = simulate(
            swarmlog,
            ground_truth,
            agents=agents,
            tasks=tasks,
            seed=seed,
            strategy=strategy,
            on_progress=lambda n: progress.advance(bar, n),
        )
    console.print(_summary(report))
    swarmlog.close()


def _where(settings: Settings) -> str:
    if settings.event_store == "sqlite":
        return str(settings.sqlite_path)
    if settings.event_store == "postgres":
        return f"{settings.postgres_host}:{settings.postgres_port}/{settings.postgres_dbname}"
    return "in memory"


def _summary(report: SimulationReport) -> Table:
    table = Table(title=f"simulation (seed {report.seed}, strategy {report.strategy})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("agents", report.agents),
        ("tasks", report.tasks),
        *((f"tasks {k}", v) for k, v in sorted(report.outcomes.items())),
        *((f"proposals {k}", v) for k, v in sorted(report.proposals.items())),
        ("commands", report.commands),
        ("events written", report.events),
        ("wall time", f"{report.wall_seconds:.1f} s"),
        ("commands/s", f"{report.commands_per_second:.0f}"),
        ("simulated time", f"{report.simulated_seconds / 3600:.1f} h"),
        ("mean true success probability", f"{report.true_success_probability:.3f}"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def main() -> None:
    app()


if __name__ == "__main__":
    main()
