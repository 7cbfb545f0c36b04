"""The GraphQL fuzzer on a small budget, and its judgement of what is an internal error."""

from __future__ import annotations

from pathlib import Path

from tests.fuzz.graphql_fuzz import internal_errors, run_fuzz


def test_a_small_fuzz_of_every_operation_finds_no_server_error(tmp_path: Path) -> None:
    report = run_fuzz(3, directory=tmp_path)
    assert report.ok, report.summary()
    queries = [o for o in report.operations if o.startswith("Query.")]
    mutations = [o for o in report.operations if o.startswith("Mutation.")]
    assert {"Query.agent", "Query.tasks"} <= set(queries), report.operations
    assert {"Mutation.spawnAgent", "Mutation.castVote"} <= set(mutations), report.operations
    assert all(report.by_operation[o] >= 1 for o in report.operations), report.by_operation
    assert report.cases >= 3 * len(report.operations)
    assert report.client_errors > 0, "negative cases are refused by validation"


def test_only_uncoded_errors_from_execution_or_with_a_python_message_are_internal() -> None:
    validation = {"message": "Cannot query field 'nope' on type 'Task'.", "locations": []}
    coded = {"message": "not yet", "path": ["task"], "extensions": {"code": "NOT_YET_VISIBLE"}}
    assert internal_errors({"data": None, "errors": [validation]}) == []
    assert internal_errors({"data": {"task": None}, "errors": [coded]}) == []
    assert internal_errors({"data": {"task": {"id": "1"}}}) == []
    syntax = {"message": "Syntax Error: Unexpected character: U+016A.", "locations": []}
    assert internal_errors({"data": None, "errors": [syntax]}) == []

    escaped = {"message": "'NoneType' object has no attribute 'id'", "path": ["task", "id"]}
    assert len(internal_errors({"data": {"task": None}, "errors": [escaped]})) == 1
    unpathed = {"message": "KeyError: 'swarm_id'"}
    assert len(internal_errors({"data": None, "errors": [unpathed]})) == 1
    assert len(internal_errors([1, 2])) == 1
