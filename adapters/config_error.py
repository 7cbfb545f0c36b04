"""The error of a configuration that cannot work (see adapters/config_check.py)."""

from __future__ import annotations


class ConfigurationError(ValueError):
    """The configuration cannot work; the message (one line) names the variable."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
