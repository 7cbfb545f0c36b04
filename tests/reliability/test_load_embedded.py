"""The fast part of the reliability harness: a short load on the embedded default, with
the ledger checked against the log and the read models against a rebuild."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.harness import settle
from tests.reliability.load import drive
from tests.support.server import embedded_settings, running_api


def test_a_short_load_loses_nothing_and_has_no_server_error(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    with running_api(settings) as api:
        ledger = drive([api.url], lambda: api.token("operator"), clients=4, seconds=4, seed=7)
    outcome = settle("load", settings, f"sqlite:///{tmp_path / 'fresh.db'}", ledger, 4)
    assert outcome.verdict.lost == []
    assert outcome.verdict.leaked == []
    assert outcome.verdict.read_models_agree
    assert outcome.server_errors == 0, ledger.codes
    assert outcome.verdict.ambiguous == 0
    operations = {entry.operation for entry in ledger.entries}
    assert operations >= {"spawnAgent", "createTask", "assignTask", "startTask"}
    assert ledger.requests > 50
