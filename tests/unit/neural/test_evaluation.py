"""Offline assignment replay: the heuristics choose as the bus's strategies do."""

from __future__ import annotations

import pytest

from adapters.neural.evaluation import (
    RoundRobinChooser,
    choose_capability,
    choose_least_loaded,
    regrets,
)
from adapters.neural.features import AgentFacts, Candidate, Example, SwarmFacts, TaskFacts

TASK = TaskFacts("code", "normal", ("python",))


def decision(*agents: AgentFacts, pool: str = "s1") -> Example:
    candidates = tuple(Candidate(f"id{i}", f"agent-{i}", a) for i, a in enumerate(agents))
    return Example(
        position=1, task_id="t", agent_id="id0", task=TASK, agent=agents[0],
        swarm=SwarmFacts(), outcome=1, duration_seconds=1.0, duration_bucket=0,
        coordination=None, candidates=candidates, swarm_id=pool,
    )  # fmt: skip


def test_capability_prefers_coverage_then_spare_capacity_and_the_first_on_ties() -> None:
    busy_match = AgentFacts("coder", ("python",), 2, 4)
    idle_miss = AgentFacts("tester", ("testing",), 0, 4)
    assert choose_capability(decision(idle_miss, busy_match)) == 1  # 0.8 against 0.4
    assert choose_capability(decision(busy_match, busy_match)) == 0


def test_least_loaded_takes_the_lowest_load_fraction() -> None:
    example = decision(AgentFacts("coder", (), 1, 2), AgentFacts("coder", (), 1, 4))
    assert choose_least_loaded(example) == 1


def test_round_robin_takes_turns_per_pool() -> None:
    agents = [AgentFacts("coder", (), 0, 4)] * 3
    chooser = RoundRobinChooser()
    assert [chooser(decision(*agents)) for _ in range(4)] == [0, 1, 2, 0]
    assert chooser(decision(*agents, pool="s2")) == 0


def test_regret_is_the_best_true_probability_minus_the_chosen() -> None:
    good, bad = AgentFacts("coder", (), 0, 4), AgentFacts("tester", (), 0, 4)

    def truth(task: TaskFacts, agent: AgentFacts) -> float:
        return 0.9 if agent.agent_type == "coder" else 0.3

    report = regrets([decision(bad, good), decision(good)], lambda e: 0, truth)
    assert report.decisions == 2
    assert report.mean_regret == pytest.approx(0.3)
    assert (report.contested, report.contested_regret) == (1, pytest.approx(0.6))
    assert report.optimal_share == 0.5
