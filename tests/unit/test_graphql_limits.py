"""The schema refuses what would cost too much before anything runs."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse, validate

from api.graphql.complexity import MAX_COMPLEXITY, ComplexityLimit
from api.graphql.schema import MAX_ALIASES, schema


def refusal(query: str) -> list[Any]:
    result = schema.execute_sync(query)
    assert result.errors, "the operation was let through"
    assert result.data is None
    return result.errors


@pytest.mark.parametrize(
    "query",
    [
        "{ agents(first: 50) { nodes { id name capabilities } pageInfo { endCursor } } }",
        "{ swarms(first: 200) { nodes { members { agentId } links { source target } } } }",
        "query($n: Int) { tasks(first: $n) { nodes { id agent { name } } } }",
        "{ eventLog(first: 1000) { nodes { position type payload } } }",
    ],
)
def test_ordinary_operations_are_within_the_complexity_limit(query: str) -> None:
    assert validate(schema._schema, parse(query), [ComplexityLimit]) == []


def test_an_operation_that_would_read_too_much_is_too_complex() -> None:
    query = """{ swarms(first: 1000) { nodes {
        members { agentId capabilities }
        links { source target }
        loadDistribution { members { agentId load } }
    } } }"""
    (error,) = refusal(query)
    assert error.extensions == {"code": "TOO_COMPLEX"}
    assert str(MAX_COMPLEXITY) in error.message


def test_fragments_count_where_they_are_spread() -> None:
    query = """
    fragment Wide on Swarm { members { agentId } links { source } path(source: "a", target: "b") }
    { a: swarms(first: 1000) { nodes { ...Wide } } b: swarms(first: 1000) { nodes { ...Wide } } }
    """
    assert any((e.extensions or {}).get("code") == "TOO_COMPLEX" for e in refusal(query))


def test_a_query_with_too_many_aliases_is_refused() -> None:
    fields = " ".join(
        f"a{i}: agents {{ pageInfo {{ hasNextPage }} }}" for i in range(MAX_ALIASES + 1)
    )
    errors = refusal(f"{{ {fields} }}")
    assert any("aliases found" in e.message for e in errors)
