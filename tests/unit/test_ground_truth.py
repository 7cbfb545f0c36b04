"""The hidden ground truth of the workload simulator: pure, seeded, documented."""

from __future__ import annotations

import math
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.simulation.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    SimulationConfig,
    load_config,
)
from application.simulation.ground_truth import (
    AgentFeatures,
    Oracle,
    TaskFeatures,
    bayes_optimal_accuracy,
    capability_coverage,
    draw_attempt,
    draw_duration,
    draw_outcome,
    expected_duration,
    plan_workload,
    success_probability,
)

CONFIGS = DEFAULT_CONFIG_PATH.parent
DEFAULT = load_config(None)
SPECIALISTS = load_config(CONFIGS / "specialists.toml")
REQUIRED = ("python", "sql", "debugging", "typescript")


def probability(
    config: SimulationConfig = DEFAULT,
    *,
    agent_type: str = "coder",
    capabilities: tuple[str, ...] = REQUIRED,
    task_type: str = "code",
    required: tuple[str, ...] = REQUIRED,
    priority: str = "normal",
    load: float = 0.0,
) -> float:
    return success_probability(
        config, agent_type, capabilities, task_type, required, priority, load
    )


# --------------------------------------------------------------------------- configs
@pytest.mark.parametrize("name", ["default.toml", "specialists.toml"])
def test_both_packaged_configs_load(name: str) -> None:
    config = load_config(CONFIGS / name)
    assert config.agent_types
    assert set(config.base_duration_seconds) == set(config.task_types)


def test_no_path_loads_the_packaged_default() -> None:
    assert load_config(None) == load_config(str(DEFAULT_CONFIG_PATH))


def test_the_two_packaged_ground_truths_differ() -> None:
    assert DEFAULT != SPECIALISTS
    assert set(DEFAULT.task_types) != set(SPECIALISTS.task_types)


@pytest.mark.parametrize(
    ("original", "broken", "field"),
    [
        ("capability_weight = 2.0", "capability_weight = -1.0", "capability_weight"),
        ("load_penalty = -1.5", "load_penalty = 0.5", "load_penalty"),
        (
            "dependency_probability = 0.3",
            "dependency_probability = 1.5",
            "dependency_probability",
        ),
        (
            "max_load_range = [2, 5]",
            "max_load_range = [5, 2]",
            "max_load_range",
        ),
        ("max_retries = 2", "max_retries = 2\nsurprise = 1", "surprise"),
        ("[affinity.coder]", "[affinity.wizard]", "affinity"),
        ("docs = 400.0", "", "base_duration_seconds"),
        ('"documenter"]', '"necromancer"]', "agent_types"),
        ("critical = 0.05", "critical = -0.05", "priority_weights"),
    ],
)
def test_a_bad_file_is_refused_with_a_message_naming_the_field(
    tmp_path: Path, original: str, broken: str, field: str
) -> None:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert original in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(original, broken, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=field) as refusal:
        load_config(bad)
    assert str(bad) in str(refusal.value)


def test_a_file_that_is_not_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("agent_types = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)


def test_the_config_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        DEFAULT.capability_weight = 9.0  # type: ignore[misc]


# --------------------------------------------------------------------------- success
def test_success_probability_follows_the_documented_formula() -> None:
    caps = ("python", "sql")
    logit = 1.5 + 2.0 * 0.5 - 1.5 * 0.4 - 0.6  # affinity, coverage, load, critical
    expected = 1 / (1 + math.exp(-logit))
    actual = probability(capabilities=caps, priority="critical", load=0.4)
    assert actual == pytest.approx(expected)


def test_an_unset_affinity_falls_back_to_the_default() -> None:
    logit = DEFAULT.default_affinity + DEFAULT.capability_weight
    got = probability(agent_type="documenter", task_type="code")
    assert got == pytest.approx(1 / (1 + math.exp(-logit)))


def test_coverage_is_the_share_of_required_capabilities_held() -> None:
    assert capability_coverage(["a", "b", "z"], ["a", "b", "c", "d"]) == 0.5
    assert capability_coverage([], ["a"]) == 0.0


def test_coverage_is_full_when_nothing_is_required() -> None:
    assert capability_coverage([], []) == 1.0


@given(
    config=st.sampled_from([DEFAULT, SPECIALISTS]),
    data=st.data(),
    load=st.floats(0.0, 1.0),
)
def test_success_probability_stays_within_the_clamp(
    config: SimulationConfig, data: st.DataObject, load: float
) -> None:
    agent_type = data.draw(st.sampled_from(config.agent_types))
    task_type = data.draw(st.sampled_from(config.task_types))
    priority = data.draw(st.sampled_from(list(config.priority_weights)))
    required = config.capabilities_by_task_type[task_type]
    held = data.draw(st.lists(st.sampled_from(required), unique=True))
    p = success_probability(config, agent_type, held, task_type, required, priority, load)
    assert 0.01 <= p <= 0.99


def test_the_clamp_holds_at_the_extremes() -> None:
    audit = {"task_type": "security_audit", "required": ("security",)}
    hopeless = probability(
        SPECIALISTS, agent_type="coder", capabilities=(), priority="critical",
        load=1.0, **audit,
    )  # fmt: skip
    certain = probability(
        SPECIALISTS, agent_type="specialist", capabilities=("security",),
        priority="background", **audit,
    )  # fmt: skip
    assert hopeless == 0.01
    assert certain == 0.99


@given(config=st.sampled_from([DEFAULT, SPECIALISTS]), held=st.integers(0, 3))
def test_more_capability_coverage_never_lowers_the_probability(
    config: SimulationConfig, held: int
) -> None:
    agent_type, task_type = config.agent_types[0], config.task_types[0]
    required = sorted(config.capabilities_by_task_type[task_type])
    fewer, more = required[: min(held, len(required))], required
    p_fewer = success_probability(config, agent_type, fewer, task_type, required, "normal", 0.0)
    p_more = success_probability(config, agent_type, more, task_type, required, "normal", 0.0)
    assert p_more >= p_fewer


@given(
    config=st.sampled_from([DEFAULT, SPECIALISTS]),
    low=st.floats(0.0, 1.0),
    high=st.floats(0.0, 1.0),
)
def test_more_load_never_raises_the_probability(
    config: SimulationConfig, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    agent_type, task_type = config.agent_types[0], config.task_types[0]
    args = (config, agent_type, [], task_type, [], "normal")
    assert success_probability(*args, high) <= success_probability(*args, low)


def test_load_strictly_hurts_in_the_default_world() -> None:
    assert probability(load=1.0) < probability(load=0.0)


def test_an_unknown_priority_or_an_impossible_load_is_refused() -> None:
    with pytest.raises(ValueError, match="priority"):
        probability(priority="urgent")
    with pytest.raises(ValueError, match="load_fraction"):
        probability(load=1.5)


def test_in_the_specialists_world_only_specialists_succeed_at_hard_tasks() -> None:
    caps = ("security", "cryptography", "fuzzing")
    hard = {"task_type": "security_audit", "capabilities": caps, "required": caps}
    specialist = probability(SPECIALISTS, agent_type="specialist", **hard)
    others = [
        probability(SPECIALISTS, agent_type=t, **hard)
        for t in SPECIALISTS.agent_types
        if t != "specialist"
    ]
    assert specialist > 0.9
    assert max(others) < 0.15


def test_priority_matters_far_more_in_the_specialists_world() -> None:
    def spread(config: SimulationConfig) -> float:
        effect = config.priority_effect
        return effect["background"] - effect["critical"]

    assert spread(SPECIALISTS) > 2 * spread(DEFAULT)


# --------------------------------------------------------------------------- draws
def test_an_outcome_is_a_bernoulli_draw_at_the_true_rate() -> None:
    rng = random.Random(11)
    successes = sum(draw_outcome(rng, 0.3) for _ in range(20_000))
    assert successes / 20_000 == pytest.approx(0.3, abs=0.015)


def test_outcomes_at_the_bounds_are_certain() -> None:
    rng = random.Random(0)
    assert not any(draw_outcome(rng, 0.0) for _ in range(100))
    assert all(draw_outcome(rng, 1.0) for _ in range(100))


def test_better_fitted_agents_are_expected_to_finish_faster() -> None:
    fitted = expected_duration(DEFAULT, "coder", REQUIRED, "code", REQUIRED)
    unfitted = expected_duration(DEFAULT, "documenter", (), "code", REQUIRED)
    base = DEFAULT.base_duration_seconds["code"]
    assert base <= fitted < unfitted <= base * (1 + DEFAULT.duration_affinity_factor)


def test_drawn_durations_average_to_the_expected_duration() -> None:
    rng = random.Random(5)
    args = (DEFAULT, "tester", ("python",), "test", ("python", "testing"))
    draws = [draw_duration(rng, *args) for _ in range(20_000)]
    assert min(draws) > 0
    assert statistics.fmean(draws) == pytest.approx(expected_duration(*args), rel=0.02)


def test_the_same_task_seed_gives_the_same_outcomes_and_durations() -> None:
    task = plan_workload(DEFAULT, 3, agents=4, tasks=5).tasks[2]
    agent = AgentFeatures("coder", ("python",), 0.25)

    def attempts() -> list[object]:
        rng = task.rng()
        return [draw_attempt(rng, DEFAULT, agent, task.features) for _ in range(10)]

    assert attempts() == attempts()


# --------------------------------------------------------------------------- oracle
def test_the_oracle_picks_the_candidate_with_the_highest_true_probability() -> None:
    task = TaskFeatures("code", REQUIRED, "high")
    candidates = [
        AgentFeatures("documenter", ("writing",), 0.0),
        AgentFeatures("coder", REQUIRED, 0.8),
        AgentFeatures("coder", REQUIRED, 0.0),
        AgentFeatures("tester", ("python",), 0.0),
    ]
    oracle = Oracle(DEFAULT)
    choice = oracle.best(task, candidates)
    probabilities = oracle.probabilities(task, candidates)
    assert choice.index == 2
    assert choice.agent == candidates[2]
    assert choice.probability == max(probabilities)


def test_the_oracle_regret_is_zero_for_its_choice_and_positive_otherwise() -> None:
    task = TaskFeatures("research", ("search",), "normal")
    candidates = [
        AgentFeatures("coder", (), 0.0),
        AgentFeatures("researcher", ("search",), 0.0),
    ]
    oracle = Oracle(DEFAULT)
    assert oracle.regret(task, candidates, 1) == 0.0
    assert oracle.regret(task, candidates, 0) > 0.3


def test_the_oracle_refuses_an_empty_candidate_list() -> None:
    with pytest.raises(ValueError, match="candidate"):
        Oracle(DEFAULT).best(TaskFeatures("code", (), "normal"), [])


@pytest.mark.parametrize(
    ("probabilities", "accuracy"),
    [
        ([0.5], 0.5),
        ([0.9, 0.1], 0.9),
        ([1.0, 0.0, 0.5, 0.5], 0.75),
        ([0.7, 0.2, 0.6], (0.7 + 0.8 + 0.6) / 3),
    ],
)
def test_bayes_optimal_accuracy_is_the_mean_of_the_likelier_outcome(
    probabilities: list[float], accuracy: float
) -> None:
    assert bayes_optimal_accuracy(iter(probabilities)) == pytest.approx(accuracy)


@pytest.mark.parametrize("probabilities", [[], [1.2], [-0.1, 0.5]])
def test_bayes_optimal_accuracy_refuses_what_is_not_probabilities(
    probabilities: list[float],
) -> None:
    with pytest.raises(ValueError, match="probabilit"):
        bayes_optimal_accuracy(probabilities)


# --------------------------------------------------------------------------- plans
@pytest.mark.parametrize("config", [DEFAULT, SPECIALISTS])
def test_the_same_seed_gives_the_identical_plan(config: SimulationConfig) -> None:
    assert plan_workload(config, 42, 12, 60) == plan_workload(config, 42, 12, 60)


def test_different_seeds_give_different_plans() -> None:
    plans = {repr(plan_workload(DEFAULT, seed, 12, 60)) for seed in range(5)}
    assert len(plans) == 5


def test_the_plan_does_not_depend_on_python_hash_randomisation() -> None:
    script = (
        "from application.simulation.config import load_config\n"
        "from application.simulation.ground_truth import plan_workload\n"
        "print(repr(plan_workload(load_config(None), 9, 10, 30)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={"PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


@pytest.mark.parametrize("config", [DEFAULT, SPECIALISTS])
def test_a_plan_respects_the_configured_structure(config: SimulationConfig) -> None:
    plan = plan_workload(config, 7, agents=20, tasks=200)
    assert len(plan.swarms) == config.swarms.count
    assert len(plan.agents) == 20
    assert len(plan.tasks) == 200
    for swarm in plan.swarms:
        assert swarm.topology in config.swarms.topologies
        assert swarm.max_agents == config.swarms.max_agents
    vocabulary = {c for caps in config.capabilities_by_agent_type.values() for c in caps}
    vocabulary |= {c for caps in config.capabilities_by_task_type.values() for c in caps}
    lo, hi = config.max_load_range
    for agent in plan.agents:
        assert agent.agent_type in config.agent_types
        assert list(agent.capabilities) == sorted(set(agent.capabilities))
        assert set(agent.capabilities) <= vocabulary
        assert len(agent.capabilities) <= config.capabilities_per_agent[1]
        assert lo <= agent.max_load <= hi
    for index, task in enumerate(plan.tasks):
        assert task.task_type in config.task_types
        assert task.priority in config.priority_weights
        assert set(task.required_capabilities) <= set(
            config.capabilities_by_task_type[task.task_type]
        )
        assert len(task.dependencies) <= config.max_dependencies
        assert all(plan.tasks[d].swarm == task.swarm for d in task.dependencies)
        assert all(d < index for d in task.dependencies)
        assert task.max_retries == config.max_retries
    assert any(task.dependencies for task in plan.tasks)
    assert len({task.seed for task in plan.tasks}) == len(plan.tasks)
    assert len({task.description for task in plan.tasks}) == len(plan.tasks)


def test_agents_are_dealt_to_swarms_round_robin() -> None:
    plan = plan_workload(DEFAULT, 1, agents=5, tasks=0)
    assert [agent.swarm for agent in plan.agents] == [0, 1, 0, 1, 0]


def test_tasks_land_only_in_swarms_that_hold_an_agent() -> None:
    plan = plan_workload(SPECIALISTS, 1, agents=2, tasks=100)
    assert {task.swarm for task in plan.tasks} <= {0, 1}


def test_a_plan_refuses_more_agents_than_the_swarms_can_hold() -> None:
    capacity = DEFAULT.swarms.count * DEFAULT.swarms.max_agents
    with pytest.raises(ValueError, match="do not fit"):
        plan_workload(DEFAULT, 1, agents=capacity + 1, tasks=1)
