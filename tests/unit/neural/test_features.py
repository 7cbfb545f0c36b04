"""Feature extraction is pure: the same facts always give the same vector."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.neural.features import (
    AGENT_TYPES,
    CROSS_BUCKETS,
    DURATION_EDGES,
    PAIR_GROUPS,
    PAIR_SIZE,
    PRIORITIES,
    TASK_SIZE,
    TASK_TYPE_BUCKETS,
    AgentFacts,
    SwarmFacts,
    TaskFacts,
    agent_type_index,
    bucket,
    coverage,
    duration_bucket,
    encode_pair,
    encode_task,
    pair_mask,
    recent_success,
)
from application.simulation.config import load_config

TASK = TaskFacts("code", "high", ("python", "sql"))
AGENT = AgentFacts("coder", ("python", "typescript"), load=1, max_load=4, recent_success=0.75)
SWARM = SwarmFacts("mesh", 6)


def test_coverage_is_the_share_of_required_capabilities_held() -> None:
    assert coverage(["python", "sql"], ["python", "go"]) == 0.5
    assert coverage([], ["python"]) == 1.0
    assert coverage(["rust"], []) == 0.0


def test_recent_success_looks_at_the_latest_ten_outcomes_shrunk_toward_the_prior() -> None:
    assert recent_success([]) == 0.5
    assert recent_success([1]) == pytest.approx(0.75)
    assert recent_success([0] * 20 + [1] * 10) == pytest.approx(10.5 / 11)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.0, 0), (299.9, 0), (300.0, 1), (1199.0, 2), (9599.0, 5), (9600.0, 6), (1e6, 6)],
)
def test_durations_fall_into_their_buckets(seconds: float, expected: int) -> None:
    assert duration_bucket(seconds) == expected
    assert 0 <= duration_bucket(seconds) <= len(DURATION_EDGES)


def test_load_fraction_is_the_load_before_taking_the_task_over_max_load() -> None:
    assert AGENT.load_fraction == 0.25
    assert AgentFacts("coder", (), load=9, max_load=3).load_fraction == 1.0


def test_a_pair_encodes_to_a_fixed_size_vector_deterministically() -> None:
    first = encode_pair(TASK, AGENT, SWARM)
    assert first.shape == (PAIR_SIZE,)
    assert first.dtype == np.float32
    assert np.array_equal(first, encode_pair(TASK, AGENT, SWARM))


def test_the_agent_type_and_priority_are_one_hot_at_the_start() -> None:
    vector = encode_pair(TASK, AGENT, SWARM)
    types = vector[: len(AGENT_TYPES)]
    assert types.sum() == 1.0
    assert types[AGENT_TYPES.index("coder")] == 1.0
    priorities = vector[len(AGENT_TYPES) : len(AGENT_TYPES) + len(PRIORITIES)]
    assert priorities[PRIORITIES.index("high")] == 1.0


def test_the_scalars_carry_coverage_load_and_recent_success() -> None:
    scalars = encode_pair(TASK, AGENT, SWARM)[-9:]
    coverage_, overlap, required, load_fraction, *_, recent, _attempts, size = scalars
    assert (coverage_, overlap, required, load_fraction) == (0.5, 0.25, 0.5, 0.25)
    assert recent == 0.75
    assert size == pytest.approx(6 / 50)


def test_every_fact_changes_the_vector() -> None:
    base = encode_pair(TASK, AGENT, SWARM)
    variants = [
        encode_pair(TaskFacts("docs", "high", ("python", "sql")), AGENT, SWARM),
        encode_pair(TaskFacts("code", "low", ("python", "sql")), AGENT, SWARM),
        encode_pair(TaskFacts("code", "high", ("python",)), AGENT, SWARM),
        encode_pair(TASK, AgentFacts("tester", ("python", "typescript"), 1, 4, 0.75), SWARM),
        encode_pair(TASK, AgentFacts("coder", ("python",), 1, 4, 0.75), SWARM),
        encode_pair(TASK, AgentFacts("coder", ("python", "typescript"), 2, 4, 0.75), SWARM),
        encode_pair(TASK, AGENT, SwarmFacts("star", 6)),
    ]
    for variant in variants:
        assert not np.array_equal(base, variant)


def test_unknown_names_still_encode() -> None:
    vector = encode_pair(
        TaskFacts("brand-new", "urgent?", ()), AgentFacts("alien", (), 0, 1), SWARM
    )
    assert vector.shape == (PAIR_SIZE,)
    assert vector[: len(AGENT_TYPES)].sum() == 0.0


def test_the_task_encoding_leaves_the_agent_out() -> None:
    vector = encode_task(TASK, SWARM)
    assert vector.shape == (TASK_SIZE,)
    assert np.array_equal(vector, encode_task(TASK, SWARM))


def test_hash_buckets_are_stable_across_processes() -> None:
    assert bucket("task_type", "code", 64) == bucket("task_type", "code", 64)
    assert bucket("task_type", "code", 1 << 30) == 877_939_941


@pytest.mark.parametrize("config", [None, "application/simulation/configs/specialists.toml"])
def test_the_simulator_types_never_share_all_their_hash_units(config: str | None) -> None:
    """Double hashing keeps every task type and agent-task pair of both ground truths apart."""
    settings = load_config(config)

    def units(namespace: str, value: str, buckets: int) -> frozenset[int]:
        return frozenset(bucket(namespace, value, buckets, salt) for salt in (0, 1))

    tasks = {units("task_type", t, TASK_TYPE_BUCKETS) for t in settings.task_types}
    assert len(tasks) == len(settings.task_types)
    pairs = {
        units("cross", f"{a}|{t}", CROSS_BUCKETS)
        for a in settings.agent_types
        for t in settings.task_types
    }
    assert len(pairs) == len(settings.agent_types) * len(settings.task_types)


def test_agent_types_index_the_coordination_classes() -> None:
    assert agent_type_index("coder") == AGENT_TYPES.index("coder")
    assert agent_type_index("nobody") is None


def test_a_mask_leaves_out_the_named_groups_only() -> None:
    mask = pair_mask(["agent_capability_ids"])
    start, stop = PAIR_GROUPS["agent_capability_ids"]
    assert mask[start:stop].sum() == 0
    assert mask.sum() == PAIR_SIZE - (stop - start)
    assert list(PAIR_GROUPS.values())[-1][1] == PAIR_SIZE
    with pytest.raises(ValueError, match="no feature group"):
        pair_mask(["nonsense"])
