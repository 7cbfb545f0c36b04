from __future__ import annotations

from uuid import UUID

import pytest

from domain.dependencies import ensure_acyclic, find_cycle, open_dependencies
from domain.errors import DependencyCycle

A, B, C, D = (UUID(int=i) for i in range(1, 5))


def test_a_task_depending_on_itself_is_a_cycle() -> None:
    assert find_cycle({}, A, [A]) == [A, A]


def test_independent_dependencies_form_no_cycle() -> None:
    graph = {B: [C], C: []}
    assert find_cycle(graph, A, [B, C]) is None


def test_a_new_task_never_closes_a_cycle_because_nothing_depends_on_it() -> None:
    assert find_cycle({B: [C]}, A, [B]) is None


def test_a_back_edge_closing_a_long_chain_is_found_with_its_path() -> None:
    graph = {A: [B], B: [C], C: [D], D: []}
    assert find_cycle(graph, D, [A]) == [D, A, B, C, D]


def test_a_two_node_cycle_is_found() -> None:
    assert find_cycle({B: [A]}, A, [B]) == [A, B, A]


def test_a_diamond_is_not_a_cycle() -> None:
    graph = {B: [D], C: [D], D: []}
    assert find_cycle(graph, A, [B, C]) is None


def test_ensure_acyclic_raises_a_dependency_cycle_naming_the_path() -> None:
    with pytest.raises(DependencyCycle) as info:
        ensure_acyclic({B: [A]}, A, [B])
    assert info.value.code == "DEPENDENCY_CYCLE"
    assert info.value.details["cycle"] == [str(A), str(B), str(A)]
    assert str(B) in info.value.message


def test_ensure_acyclic_accepts_an_acyclic_addition() -> None:
    ensure_acyclic({B: [C]}, A, [B, C])


def test_open_dependencies_are_those_not_completed_sorted() -> None:
    assert open_dependencies([C, A, B], {B}) == [A, C]
