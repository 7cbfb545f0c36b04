"""What every reliability scenario ends with: the read models caught up, compared with a
rebuild from the log, and the ledger held to the log."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.settings import Settings
from application.bootstrap import Swarmlog, bootstrap, read_side
from projections.database import read_model_engine
from projections.runner import ProjectionRunner
from projections.status import status
from tests.reliability.load import Ledger, Verdict, check
from tests.support.read_models import checksums

SERVER_FAULTS = ("INTERNAL", "UNCODED")


def wait_caught_up(runner: ProjectionRunner, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while any(row["lag"] for row in status(runner)):
        if time.monotonic() > deadline:
            raise AssertionError(f"read models still behind after {seconds} s: {status(runner)}")
        time.sleep(0.1)


def read_models_match_a_rebuild(settings: Settings, fresh_url: str) -> bool:
    """Whether the live read models (once the workers caught up) equal read models
    built afresh from the whole log at ``fresh_url``."""
    app = bootstrap(settings, inline_policies=False)
    try:
        live = ProjectionRunner(
            app.store, read_model_engine(settings.read_model_url), read_side(app).projections
        )
        wait_caught_up(live)
        fresh_settings = settings.model_copy(update={"read_model_url": fresh_url})
        fresh = read_side(
            Swarmlog(fresh_settings, app.store, app.bus, app.policies, app.strategies)
        )
        fresh.catch_up()
        try:
            return checksums(live.engine) == checksums(fresh.engine)
        finally:
            live.engine.dispose()
            fresh.engine.dispose()
    finally:
        app.close()


@dataclass
class Outcome:
    name: str
    ledger: Ledger
    verdict: Verdict
    clients: int

    @property
    def server_errors(self) -> int:
        return sum(
            count
            for code, count in self.ledger.codes.items()
            if code in SERVER_FAULTS or code.startswith("HTTP 5")
        )

    @property
    def events_lost(self) -> int:
        return len(self.verdict.lost) + len(self.verdict.leaked)

    @property
    def ok(self) -> bool:
        return self.verdict.ok and self.server_errors == 0


def settle(name: str, settings: Settings, fresh_url: str, ledger: Ledger, clients: int) -> Outcome:
    """Check a finished scenario: read models against a rebuild, ledger against the log."""
    agree = read_models_match_a_rebuild(settings, fresh_url)
    app = bootstrap(settings, inline_policies=False)
    try:
        verdict = check(app, ledger, agree)
    finally:
        app.close()
    return Outcome(name, ledger, verdict, clients)


Scenario = Callable[[], Outcome]
