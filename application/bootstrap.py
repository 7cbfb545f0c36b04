"""The one place where swarmlog is wired together."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from adapters.event_store import event_store_env
from adapters.settings import Settings
from application.assignment import AssignmentStrategy, Deferred, default_strategies
from application.bus import Clock, CommandBus, CommandResult
from application.commands import Command
from application.handlers import all_handlers
from application.policies import ALL_POLICIES, PolicyRunner
from application.store import EventStore
from projections.database import read_model_engine
from projections.registry import all_projections
from projections.runner import ProjectionRunner

if TYPE_CHECKING:  # imported lazily: it imports JAX (about 0.6 s)
    from adapters.neural.service import NeuralService

log = structlog.get_logger(__name__)


@dataclass
class Swarmlog:
    """The wired write side: the store, the bus, the policies and the strategies."""

    settings: Settings
    store: EventStore
    bus: CommandBus
    policies: PolicyRunner
    strategies: dict[str, AssignmentStrategy]
    _neural: NeuralService | None = field(default=None, repr=False)
    _neural_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handle(self, command: Command, **context: Any) -> CommandResult:
        return self.bus.handle(command, **context)

    def neural(self) -> NeuralService:
        """The neural engine's service of this process, built on first use (it reads
        the read-model database for its examples and ``neural_model_dir`` for weights)."""
        with self._neural_lock:
            if self._neural is None:
                from adapters.neural.service import NeuralService

                self._neural = NeuralService(
                    self.settings,
                    self.store,
                    self.handle,
                    read_model_engine(self.settings.read_model_url),
                )
            return self._neural

    def close(self) -> None:
        self.store.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    inline_policies: bool = True,
    clock: Clock | None = None,
) -> Swarmlog:
    """Build swarmlog from settings.

    With ``inline_policies`` the policies catch up right after every command, in
    the caller's thread: what a command implies has happened when it returns.
    Otherwise a worker calls ``policies.catch_up()``.
    """
    settings = settings or Settings()
    store = EventStore(event_store_env(settings), snapshot_interval=settings.snapshot_interval)
    strategies = default_strategies()
    bus = CommandBus(store, all_handlers(strategies), retries=settings.command_retries)
    if clock is not None:
        bus.clock = clock
    runner = PolicyRunner(store, bus, ALL_POLICIES)
    if inline_policies:
        bus.after_commit.append(lambda _result: _catch_up_quietly(runner))
    swarmlog = Swarmlog(settings, store, bus, runner, strategies)
    if settings.neural_enabled:
        strategies["neural"] = Deferred("neural", lambda: swarmlog.neural().strategy())
    return swarmlog


def _catch_up_quietly(runner: PolicyRunner) -> None:
    """The command has committed; a policy failure must not turn it into an error."""
    try:
        runner.catch_up()
    except Exception:
        log.exception("policies.catch_up_failed")


def read_side(swarmlog: Swarmlog) -> ProjectionRunner:
    """The projection runner over every read model, its tables set up."""
    settings = swarmlog.settings
    runner = ProjectionRunner(
        swarmlog.store,
        read_model_engine(settings.read_model_url),
        all_projections(),
        batch_size=settings.projection_batch_size,
    )
    runner.setup()
    return runner
