"""Each end-to-end test gets a real server of its own on the embedded default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Api, embedded_settings, running_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(embedded_settings(tmp_path)) as server:
        yield server
