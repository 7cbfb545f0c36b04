"""Evaluation of the neural pattern engine against the simulator's known ground truth.

For each ground-truth config and seed: simulate a training workload, consume its log
into examples, train; simulate a held-out workload (another seed: other agents,
other tasks), consume it, and measure on its examples:

- outcome accuracy against the Bayes-optimal accuracy of the true probabilities of
  the same examples, log loss (the truth's own log loss beside it), ECE (15 bins);
- the same after training incrementally (batches of 256 with replay) instead;
- assignment regret against the oracle at every decision point of the held-out log,
  for the neural strategy (top-1 recommendation) and the heuristics, all choosing
  among the same candidates as they were then (offline replay; "contested" counts
  only decisions with two or more candidates);
- live: the same workload plan simulated once per strategy, the neural strategy
  registered with the bus for the run (as phase 2 will), and the regret of the
  choices each strategy actually made at the decision points of its own run.

    python -m tests.bench.bench_neural [--seeds 1 2 3] [--train-tasks 6000] [--test-tasks 3000]

Prints a table and writes var/bench/neural.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import NeuralEngine
from adapters.neural.evaluation import heuristic_choosers, neural_chooser, regrets
from adapters.neural.features import AgentFacts, Example, TaskFacts
from adapters.neural.metrics import measure
from adapters.neural.strategy import NeuralStrategy
from adapters.neural.types import EngineConfig
from adapters.settings import Settings
from application.bootstrap import bootstrap
from application.simulation.config import DEFAULT_CONFIG_PATH, SimulationConfig, load_config
from application.simulation.features import AgentFeatures, TaskFeatures
from application.simulation.ground_truth import bayes_optimal_accuracy, probability_for
from application.simulation.runner import simulate
from projections.database import read_model_engine

CONFIGS = {
    "default": DEFAULT_CONFIG_PATH,
    "specialists": DEFAULT_CONFIG_PATH.parent / "specialists.toml",
}
STRATEGIES = ("neural", "capability", "least_loaded", "round_robin")
AGENTS = 40
console = Console(width=200)


def examples_of(config: SimulationConfig, seed: int, tasks: int) -> list[Example]:
    """Simulate a workload on an in-memory store and consume its log into examples."""
    app = bootstrap(Settings(event_store="memory", snapshot_interval=0))
    try:
        simulate(app, config, agents=AGENTS, tasks=tasks, seed=seed)
        consumer = ExampleConsumer(app.store, read_model_engine("sqlite://"))
        consumer.setup()
        consumer.catch_up()
        return consumer.examples()
    finally:
        app.close()


def truth_of(config: SimulationConfig) -> Any:
    def truth(task: TaskFacts, agent: AgentFacts) -> float:
        return probability_for(
            config,
            AgentFeatures(agent.agent_type, agent.capabilities, agent.load_fraction),
            TaskFeatures(task.task_type, task.required_capabilities, task.priority),
        )

    return truth


def incremental_engine(examples: list[Example], seed: int) -> NeuralEngine:
    engine = NeuralEngine(EngineConfig(seed=seed))
    step = engine.config.update_every
    for start in range(0, len(examples), step):
        engine.observe(examples[start : start + step])
    return engine


def live(
    config: SimulationConfig,
    engine: NeuralEngine,
    seed: int,
    tasks: int,
    thresholds: Sequence[float] = (),
) -> dict[str, dict[str, float]]:
    """Each strategy assigns the same workload plan through the bus; the true mean
    success probability of its assignments and its regret at its own decision points.
    ``neural`` falls back below the deployed minimum confidence; ``neural@T`` below
    each other threshold T asked for."""
    found = {}
    runs = [(s, Settings().neural_min_confidence) for s in STRATEGIES]
    runs += [(f"neural@{t:g}", t) for t in thresholds]
    for key, threshold in runs:
        strategy = key.split("@")[0]
        app = bootstrap(Settings(event_store="memory", snapshot_interval=0))
        try:
            consumer = ExampleConsumer(app.store, read_model_engine("sqlite://"))
            consumer.setup()

            def history(ids: Any, consumer: ExampleConsumer = consumer) -> Any:
                consumer.catch_up()
                return consumer.agent_history(ids)

            app.strategies["neural"] = NeuralStrategy(
                engine,
                history,
                lambda pool, c=consumer: c.swarm_facts(str(pool)),
                # below this confidence it falls back to the capability score
                min_confidence=threshold,
            )
            report = simulate(app, config, agents=AGENTS, tasks=tasks, seed=seed, strategy=strategy)
            consumer.catch_up()
            made = consumer.examples()
            regret = regrets(made, chosen, truth_of(config))
            found[key] = {
                "true_success_probability": report.true_success_probability,
                "completed": report.outcomes.get("completed", 0),
                "mean_regret": regret.mean_regret,
                "contested": regret.contested,
                "contested_regret": regret.contested_regret,
            }
        finally:
            app.close()
    return found


def chosen(example: Example) -> int:
    """The candidate the run's own strategy chose."""
    return next(i for i, c in enumerate(example.candidates) if c.agent_id == example.agent_id)


def run(
    name: str,
    seed: int,
    train_tasks: int,
    test_tasks: int,
    live_tasks: int,
    thresholds: Sequence[float] = (),
) -> dict[str, Any]:
    config = load_config(CONFIGS[name])
    started = time.perf_counter()
    train = examples_of(config, seed, train_tasks)
    test = examples_of(config, seed + 1000, test_tasks)
    simulated = time.perf_counter() - started
    engine = NeuralEngine(EngineConfig(seed=seed))
    started = time.perf_counter()
    version = engine.train(train)
    trained = time.perf_counter() - started
    truth = truth_of(config)
    outcome = [e for e in test if e.outcome is not None]
    p = np.asarray([truth(e.task, e.agent) for e in outcome])
    labels = np.asarray([e.outcome for e in outcome])
    row: dict[str, Any] = {
        "config": name,
        "seed": seed,
        "train_examples": len(train),
        "test_examples": len(outcome),
        "bayes_accuracy": bayes_optimal_accuracy(p.tolist()),
        "truth": asdict(measure(np.stack([1 - p, p], axis=1), labels)),
        "neural": {k: asdict(m) for k, m in engine.evaluate(test).items()},
        "neural_incremental": asdict(incremental_engine(train, seed).evaluate(test)["outcome"]),
        "version": asdict(version),
        "seconds": {"simulate": simulated, "train": trained},
    }
    choosers = {"neural": neural_chooser(engine), **heuristic_choosers()}
    row["regret"] = {s: asdict(regrets(test, choosers[s], truth)) for s in STRATEGIES}
    if live_tasks:
        row["live"] = live(config, engine, seed + 2000, live_tasks, thresholds)
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    checks = {
        "accuracy_within_2_points": all(
            r["neural"]["outcome"]["accuracy"] >= r["bayes_accuracy"] - 0.02 for r in rows
        ),
        "ece_at_most_0_05": all(r["neural"]["outcome"]["ece"] <= 0.05 for r in rows),
        "neural_regret_below_every_heuristic": all(
            r["regret"]["neural"]["mean_regret"] < r["regret"][s]["mean_regret"]
            for r in rows
            for s in STRATEGIES[1:]
        ),
    }
    if all("live" in r for r in rows):
        checks["live_neural_regret_below_every_heuristic"] = all(
            r["live"]["neural"]["mean_regret"] < r["live"][s]["mean_regret"]
            for r in rows
            for s in STRATEGIES[1:]
        )
    means = {s: statistics.mean(r["regret"][s]["mean_regret"] for r in rows) for s in STRATEGIES}
    return {"checks": checks, "mean_regret": means}


def show(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    table = Table(
        title="Neural pattern engine vs. the simulator's ground truth (held-out workloads)"
    )
    for column in (
        "config", "seed", "train", "test", "acc", "bayes", "gap", "acc incr",
        "log loss", "truth LL", "ECE",
        *(f"regret {s}" for s in STRATEGIES),
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "config" else "right")
    for r in rows:
        outcome = r["neural"]["outcome"]
        table.add_row(
            r["config"],
            str(r["seed"]),
            str(r["train_examples"]),
            str(r["test_examples"]),
            f"{outcome['accuracy']:.4f}",
            f"{r['bayes_accuracy']:.4f}",
            f"{(r['bayes_accuracy'] - outcome['accuracy']) * 100:+.2f} pt",
            f"{r['neural_incremental']['accuracy']:.4f}",
            f"{outcome['log_loss']:.4f}",
            f"{r['truth']['log_loss']:.4f}",
            f"{outcome['ece']:.4f}",
            *(f"{r['regret'][s]['mean_regret']:.4f}" for s in STRATEGIES),
        )
    console.print(table)
    regret = Table(title="Assignment regret: contested decisions (offline) and live runs")
    for column in ("config", "seed", "contested", *STRATEGIES, "live: ", *STRATEGIES):
        regret.add_column(column, justify="left" if column == "config" else "right")
    for r in rows:
        runs = r.get("live", {})
        regret.add_row(
            r["config"],
            str(r["seed"]),
            str(r["regret"]["neural"]["contested"]),
            *(f"{r['regret'][s]['contested_regret']:.4f}" for s in STRATEGIES),
            "regret / P(success)",
            *(
                f"{runs[s]['mean_regret']:.4f} / {runs[s]['true_success_probability']:.3f}"
                if s in runs
                else "-"
                for s in STRATEGIES
            ),
        )
    console.print(regret)
    swept = sorted({k for r in rows for k in r.get("live", {}) if "@" in k})
    if swept:
        sweep = Table(title="Live regret of the neural strategy by its minimum confidence")
        for column in ("config", "seed", *swept, "capability"):
            sweep.add_column(column, justify="left" if column == "config" else "right")
        for r in rows:
            sweep.add_row(
                r["config"],
                str(r["seed"]),
                *(f"{r['live'][k]['mean_regret']:.4f}" for k in [*swept, "capability"]),
            )
        console.print(sweep)
    console.print(
        "mean regret: " + ", ".join(f"{s} {v:.4f}" for s, v in summary["mean_regret"].items())
    )
    console.print("checks: " + ", ".join(f"{k}={v}" for k, v in summary["checks"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--train-tasks", type=int, default=6000)
    parser.add_argument("--test-tasks", type=int, default=3000)
    parser.add_argument("--live-tasks", type=int, default=1000, help="0: no live runs")
    parser.add_argument(
        "--min-confidence",
        type=float,
        nargs="*",
        default=[],
        help="other thresholds of the neural strategy to run live beside the deployed one",
    )
    parser.add_argument("--out", type=Path, default=Path("var/bench/neural.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for name in args.configs:
        for seed in args.seeds:
            rows.append(
                run(
                    name,
                    seed,
                    args.train_tasks,
                    args.test_tasks,
                    args.live_tasks,
                    args.min_confidence,
                )
            )
            console.log(f"{name} seed {seed} done")
    summary = summarize(rows)
    show(rows, summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "agents": AGENTS,
        "train_tasks": args.train_tasks,
        "test_tasks": args.test_tasks,
        "live_tasks": args.live_tasks,
        "engine": asdict(EngineConfig()),
        "runs": rows,
        "summary": summary,
        "seconds": time.perf_counter() - started,
    }
    args.out.write_text(json.dumps(result, indent=2))
    console.print(f"wrote {args.out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
