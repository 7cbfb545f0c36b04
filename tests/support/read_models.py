"""Reading whole read models back, to compare two builds of them."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, select

from projections.registry import all_projections


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model (through the views), in primary-key order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for projection in all_projections():
            views = projection.views()
            physical = projection.tables(1)
            for logical, view in views.items():
                keys = [view.c[c.name] for c in physical[logical].primary_key.columns]
                tables[logical] = [tuple(r) for r in conn.execute(select(view).order_by(*keys))]
    return tables


def checksums(engine: Engine) -> dict[str, str]:
    """A digest of each read model's rows."""
    return {
        name: hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
        for name, rows in contents(engine).items()
    }
