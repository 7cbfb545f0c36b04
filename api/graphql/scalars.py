"""``Position``: a place in the event log, as a GraphQL scalar of its own.

GraphQL's ``Int`` is 32-bit, and an EventStoreDB commit position (a byte offset into
the server's log) passes 2^31 once the log passes 2 GiB. ``Position`` is a signed
64-bit integer, written as a JSON number; a client that cannot hold integers above
2^53 exactly may send one as a string of digits.
"""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

Position = NewType("Position", int)

LOWEST, HIGHEST = -(2**63), 2**63 - 1


def parse_position(value: object) -> Position:
    """An int (or a string of digits) within 64 bits; anything else is refused."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Position must be an integer, not {value!r}")
    if not LOWEST <= value <= HIGHEST:
        raise ValueError(f"Position must fit in 64 bits, not {value}")
    return Position(value)


SCALARS: dict[object, ScalarDefinition] = {
    Position: strawberry.scalar(
        name="Position",
        description="A position in the event log: a signed 64-bit integer, written as a "
        "JSON number (a string of digits is accepted as input too).",
        serialize=int,
        parse_value=parse_position,
    )
}
