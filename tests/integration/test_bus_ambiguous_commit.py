"""A commit that went through although the store reported a failure (the connection
broke after COMMIT, and the library's retry of the insert then met the rows it had
written itself) is the command's success, not a conflict nor a refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from application.bootstrap import bootstrap
from application.commands import PauseAgent
from domain.agent import Agent
from tests.conftest import sqlite_settings
from tests.integration.helpers import events_of, spawn


def test_a_commit_that_landed_before_the_error_is_a_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = bootstrap(sqlite_settings(tmp_path))
    agent = spawn(app, "ada")
    recorder: Any = app.store.recorder
    real = recorder.insert_events
    failures = []

    def committed_then_failed(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not failures:
            failures.append(1)
            raise IntegrityError("the retried insert met the rows of its own first try")
        return result

    monkeypatch.setattr(recorder, "insert_events", committed_then_failed)
    result = app.handle(PauseAgent(agent_id=agent, reason="break"))
    assert failures == [1]
    assert result.events == ("Agent.Transitioned",)
    assert app.store.load(Agent, agent).state == "paused"
    paused = [e for e in events_of(app, agent) if getattr(e, "to_state", None) == "paused"]
    assert len(paused) == 1  # applied once
    assert result.position >= app.store.head() - 1
    app.close()


def test_a_real_conflict_is_still_retried_on_fresh_state(tmp_path: Path) -> None:
    app = bootstrap(sqlite_settings(tmp_path))
    other = bootstrap(sqlite_settings(tmp_path))
    agent = spawn(app, "ada")
    app.store.load(Agent, agent)  # cached in app
    other.handle(PauseAgent(agent_id=agent, reason="from elsewhere"))
    refused = None
    try:
        app.handle(PauseAgent(agent_id=agent, reason="again"))
    except Exception as error:  # the agent is paused already: a refusal, decided afresh
        refused = error
    assert refused is not None
    assert getattr(refused, "code", None) == "INVALID_TRANSITION"
    other.close()
    app.close()
