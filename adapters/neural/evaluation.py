"""Offline assignment replay: what each strategy would have chosen at the decision
points the log recorded, so strategies are compared over the same task sequence.

Each :class:`~adapters.neural.features.Example` holds the candidates as they were
when its task was assigned. A *chooser* picks one of them by index; the heuristics
here mirror :mod:`application.assignment` on those facts (capability score, least
loaded, round robin per pool), and :func:`neural_chooser` takes the engine's top
recommendation. :func:`regrets` scores the choices with any ``truth`` function
(the simulator's oracle in the evaluation): best true probability minus chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from adapters.neural.engine import NeuralEngine
from adapters.neural.features import AgentFacts, Example, TaskFacts, coverage

Chooser = Callable[[Example], int]
Truth = Callable[[TaskFacts, AgentFacts], float]


def capability_score(task: TaskFacts, agent: AgentFacts) -> float:
    """0.4 x spare capacity + 0.6 x coverage, as ``application.assignment`` scores."""
    spare = (agent.max_load - agent.load) / agent.max_load
    return 0.4 * spare + 0.6 * coverage(task.required_capabilities, agent.capabilities)


def choose_capability(example: Example) -> int:
    scores = [capability_score(example.task, c.agent) for c in example.candidates]
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def choose_least_loaded(example: Example) -> int:
    loads = [c.agent.load / c.agent.max_load for c in example.candidates]
    return min(range(len(loads)), key=lambda i: (loads[i], i))


@dataclass
class RoundRobinChooser:
    """Takes turns through each pool's candidates (in turn order), like ``RoundRobin``."""

    last: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __call__(self, example: Example) -> int:
        turns = [(c.name, c.agent_id) for c in example.candidates]
        previous = self.last.get(example.swarm_id, ("", ""))
        after = [i for i, turn in enumerate(turns) if turn > previous]
        chosen = after[0] if after else 0
        self.last[example.swarm_id] = turns[chosen]
        return chosen


def neural_chooser(engine: NeuralEngine) -> Chooser:
    """The engine's top-1 recommendation among the candidates."""

    def choose(example: Example) -> int:
        best = engine.recommend(example.task, example.candidates, k=1, swarm=example.swarm)[0]
        return next(i for i, c in enumerate(example.candidates) if c.agent_id == best.agent_id)

    return choose


@dataclass(frozen=True)
class RegretReport:
    decisions: int
    mean_regret: float
    mean_chosen_probability: float
    mean_best_probability: float
    optimal_share: float
    """Share of decisions where the choice was (one of) the best."""
    contested: int
    """Decisions with at least two candidates (the others leave no choice)."""
    contested_regret: float
    """Mean regret over the contested decisions."""


def regrets(examples: Sequence[Example], choose: Chooser, truth: Truth) -> RegretReport:
    """Replay ``choose`` over the decision points of ``examples`` (in order)."""
    total = chosen_total = best_total = optimal = contested_total = 0.0
    decisions = contested = 0
    for example in examples:
        if not example.candidates:
            continue
        truths = [truth(example.task, c.agent) for c in example.candidates]
        pick = truths[choose(example)]
        best = max(truths)
        total += best - pick
        chosen_total += pick
        best_total += best
        optimal += float(pick >= best - 1e-12)
        decisions += 1
        if len(truths) > 1:
            contested += 1
            contested_total += best - pick
    n = max(1, decisions)
    return RegretReport(
        decisions,
        total / n,
        chosen_total / n,
        best_total / n,
        optimal / n,
        contested,
        contested_total / max(1, contested),
    )


def heuristic_choosers() -> dict[str, Chooser]:
    """Fresh choosers of the heuristic strategies, by the names the bus knows them by."""
    return {
        "capability": choose_capability,
        "least_loaded": choose_least_loaded,
        "round_robin": RoundRobinChooser(),
    }
