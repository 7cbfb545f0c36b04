"""The README's configuration table is the Settings model's: every variable, its default
and its meaning. Regenerate it with ``.venv/bin/python -m tests.deploy.test_readme_config``
and paste it under "## Configuration"."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from adapters.config_check import variable_names
from adapters.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"

# Meanings of the fields the model gives no description (their description wins once set).
MEANINGS = {
    "postgres_dbname": "PostgreSQL database of the events (SWARMLOG_EVENT_STORE=postgres).",
    "postgres_host": "PostgreSQL host of the events.",
    "postgres_port": "PostgreSQL port of the events (1 to 65535).",
    "postgres_user": "PostgreSQL user of the events.",
    "postgres_password": "PostgreSQL password of the events.",
    "postgres_pool_size": "Connections in the PostgreSQL event store's pool (1 to 100).",
}


def _default(name: str) -> str:
    default: Any = Settings.model_fields[name].default
    if default is PydanticUndefined or default is None:
        return "(unset)"
    if isinstance(default, bool):
        return "`true`" if default else "`false`"
    if default == "":
        return "(empty)"
    return f"`{default}`"


def meaning(name: str) -> str:
    description = Settings.model_fields[name].description or MEANINGS.get(name, "")
    return " ".join(description.split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def config_rows() -> list[tuple[str, str, str]]:
    rows = []
    for name in Settings.model_fields:
        primary, *others = variable_names(name)
        variable = f"`{primary}`" + "".join(f" (or `{other}`)" for other in others)
        rows.append((variable, _default(name), _cell(meaning(name))))
    return rows


def config_table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| {variable} | {default} | {text} |" for variable, default, text in config_rows()]
    return "\n".join(lines)


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Configuration\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no '## Configuration' section"
    return match.group(1)


def _readme_rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in _readme_section().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != 3 or cells[0] in ("variable", "---"):
            continue
        for variable in re.findall(r"`([A-Z0-9_]+)`", cells[0]):
            rows[variable] = (cells[1], cells[2])
    return rows


def test_every_settings_variable_is_in_the_readme_table() -> None:
    documented = _readme_rows()
    missing = [v for name in Settings.model_fields for v in variable_names(name)]
    missing = [v for v in missing if v not in documented]
    assert not missing, (
        f"README '## Configuration' lacks {missing}; regenerate the table: "
        ".venv/bin/python -m tests.deploy.test_readme_config"
    )


def test_the_readme_table_names_no_variable_the_model_does_not_read() -> None:
    known = {v for name in Settings.model_fields for v in variable_names(name)}
    assert set(_readme_rows()) <= known


def test_the_readme_defaults_and_meanings_are_the_models() -> None:
    documented = _readme_rows()
    for variable, default, text in config_rows():
        name = re.findall(r"`([A-Z0-9_]+)`", variable)[0]
        assert documented[name] == (default, text), (
            f"README row of {name} is out of date; regenerate the table: "
            ".venv/bin/python -m tests.deploy.test_readme_config"
        )


if __name__ == "__main__":
    print(config_table())
