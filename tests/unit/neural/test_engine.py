"""The engine: deterministic for a seed, serializable, trained incrementally with replay."""

from __future__ import annotations

import random

import jax
import numpy as np
import pytest

from adapters.neural.engine import NeuralEngine
from adapters.neural.features import (
    AGENT_TYPES,
    AgentFacts,
    Candidate,
    Example,
    SwarmFacts,
    TaskFacts,
)
from adapters.neural.replay import ReplayBuffer
from adapters.neural.types import EngineConfig, NotTrained

FAST = EngineConfig(hidden=32, max_epochs=8, patience=3, update_every=64)
TYPES = ("coder", "tester", "documenter")
TASKS = ("code", "test", "docs")


def planted(count: int, seed: int = 0, start: int = 1) -> list[Example]:
    """Coders complete code tasks and fail the rest; everyone else the other way round."""
    rng = random.Random(seed)
    examples = []
    for i in range(count):
        agent = AgentFacts(rng.choice(TYPES), ("python",), rng.randint(0, 2), 3)
        task = TaskFacts(rng.choice(TASKS), "normal", ("python",))
        success = (agent.agent_type == "coder") == (task.task_type == "code")
        examples.append(
            Example(
                position=start + i,
                task_id=f"t{i}",
                agent_id=f"a{i}",
                task=task,
                agent=agent,
                swarm=SwarmFacts("mesh", 3),
                outcome=int(success),
                duration_seconds=100.0 + 100 * rng.random(),
                duration_bucket=0,
                coordination=AGENT_TYPES.index(agent.agent_type) if success else None,
            )
        )
    return examples


def leaves(engine: NeuralEngine) -> list[np.ndarray]:
    return [
        np.asarray(v) for m in engine.models.values() for v in jax.tree_util.tree_leaves(m.params)
    ]


def test_the_same_seed_gives_identical_parameters_and_predictions() -> None:
    data = planted(600)
    first, second = NeuralEngine(FAST), NeuralEngine(FAST)
    first.train(data)
    second.train(data)
    for a, b in zip(leaves(first), leaves(second), strict=True):
        assert np.array_equal(a, b)
    task, agent = TaskFacts("code", "normal", ("python",)), AgentFacts("coder", ("python",), 0, 3)
    assert first.predict_outcome(task, agent) == second.predict_outcome(task, agent)


def test_another_seed_gives_other_parameters() -> None:
    data = planted(300)
    first, other = NeuralEngine(FAST), NeuralEngine(EngineConfig(**{**FAST.__dict__, "seed": 7}))
    first.train(data)
    other.train(data)
    assert any(not np.array_equal(a, b) for a, b in zip(leaves(first), leaves(other), strict=True))


def test_it_learns_the_planted_rule_and_recommends_by_it() -> None:
    engine = NeuralEngine(FAST)
    version = engine.train(planted(800))
    assert version.validation["outcome"]["accuracy"] > 0.97
    code = TaskFacts("code", "normal", ("python",))
    coder, tester = AgentFacts("coder", ("python",), 0, 3), AgentFacts("tester", ("python",), 0, 3)
    prediction = engine.predict_outcome(code, coder)
    assert prediction.label == "completed"
    assert prediction.model_version == 1
    assert 0.0 <= prediction.confidence <= 1.0
    assert sum(prediction.probabilities) == pytest.approx(1.0, abs=1e-5)
    assert engine.predict_outcome(code, tester).label == "failed"
    candidates = [Candidate("t", "tester-1", tester), Candidate("c", "coder-1", coder)]
    (best,) = engine.recommend(code, candidates, k=1)
    assert best.agent_id == "c"
    assert engine.predict_coordination(code).label in AGENT_TYPES


def test_an_untrained_engine_refuses_to_predict() -> None:
    with pytest.raises(NotTrained):
        NeuralEngine(FAST).predict_outcome(
            TaskFacts("code", "normal", ()), AgentFacts("coder", (), 0, 1)
        )


def test_new_examples_train_once_a_batch_has_arrived() -> None:
    engine = NeuralEngine(FAST)
    assert engine.observe(planted(40)) is None
    first = engine.observe(planted(40, seed=1, start=41))
    assert first is not None
    assert first.kind == "full"
    assert first.examples == 80
    assert engine.observe(planted(30, seed=2, start=81)) is None
    second = engine.observe(planted(40, seed=3, start=111))
    assert second is not None
    assert second.kind == "incremental"
    assert (second.number, second.first_position, second.last_position) == (2, 1, 150)
    assert second.examples == 150
    assert len(engine.models["outcome"].replay) == 150 * 1  # every outcome row joined it


def test_a_state_dict_round_trips_to_identical_predictions_and_training() -> None:
    engine = NeuralEngine(FAST)
    engine.train(planted(300))
    copy = NeuralEngine(FAST)
    copy.load_state_dict(engine.state_dict())
    task, agent = TaskFacts("docs", "normal", ()), AgentFacts("documenter", (), 1, 3)
    assert copy.predict_outcome(task, agent) == engine.predict_outcome(task, agent)
    more = planted(64, seed=5, start=301)
    engine.observe(more)
    copy.observe(more)
    for a, b in zip(leaves(engine), leaves(copy), strict=True):
        assert np.array_equal(a, b)


def test_the_replay_buffer_keeps_a_bounded_deterministic_sample() -> None:
    def filled(seed: int) -> ReplayBuffer:
        buffer = ReplayBuffer(inputs=1, capacity=50, seed=seed)
        buffer.add(np.arange(500, dtype=np.float32)[:, None], np.arange(500, dtype=np.int32))
        return buffer

    first, second = filled(0), filled(0)
    assert len(first) == 50
    assert np.array_equal(first.y, second.y)
    assert first.y.max() > 100  # later rows got in
    x, y = first.sample(10)
    assert x.shape == (10, 1)
    assert len(set(y.tolist())) == 10


def test_a_state_dict_without_replay_still_predicts_the_same() -> None:
    engine = NeuralEngine(FAST)
    engine.train(planted(200))
    state = engine.state_dict(include_replay=False)
    assert all(model["replay"] is None for model in state["models"].values())
    copy = NeuralEngine(FAST)
    copy.load_state_dict(state)
    task, agent = TaskFacts("code", "normal", ()), AgentFacts("coder", (), 0, 3)
    assert copy.predict_outcome(task, agent) == engine.predict_outcome(task, agent)
    assert len(copy.models["outcome"].replay) == 0
