"""A clean environment for the deployment tests: no SWARMLOG_* variable and no `.env`
of the developer's leaks into them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.config_check import all_variable_names


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("SWARMLOG_") or name in all_variable_names():
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here; var/ of the defaults goes here
    return tmp_path
