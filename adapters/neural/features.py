"""Pure feature extraction: what the neural engine knows of an assignment, as numbers.

An :class:`Example` is one finished attempt: the task, the agent as it was when the
task was assigned to it (its load then, its recent success rate), the swarm, and the
labels of the three pattern types. :func:`encode_pair` turns the facts of a (task,
agent, swarm) triple into a fixed-size vector; :func:`encode_task` does the same for
the task and swarm alone (the coordination pattern). Open vocabularies (task types,
capabilities, topologies) are hashed with a stable hash (CRC-32) into fixed buckets,
so the encoding needs no fitted state and never changes shape as new names appear.
Bump :data:`FEATURE_VERSION` whenever the layout changes: a model trained on one
layout cannot read another.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from domain.agent import AgentType
from domain.task_status import Priority

FEATURE_VERSION = 1
AGENT_TYPES: tuple[str, ...] = tuple(t.value for t in AgentType)
PRIORITIES: tuple[str, ...] = tuple(p.value for p in Priority)
DURATION_EDGES: tuple[float, ...] = (300.0, 600.0, 1200.0, 2400.0, 4800.0, 9600.0)
"""Upper edges (seconds) of the duration buckets; one more bucket holds the rest."""
OUTCOMES: tuple[str, ...] = ("failed", "completed")
"""Outcome classes by index: the probability of class 1 is that of success."""
RECENT_WINDOW = 10
"""How many of an agent's latest outcomes its recent success rate looks at."""

TASK_TYPE_BUCKETS = 64
CROSS_BUCKETS = 512
CAPABILITY_BUCKETS = 64
TOPOLOGY_BUCKETS = 8
SCALARS = 9
PAIR_SIZE = (
    len(AGENT_TYPES) + len(PRIORITIES) + TASK_TYPE_BUCKETS + CROSS_BUCKETS
    + 2 * CAPABILITY_BUCKETS + TOPOLOGY_BUCKETS + SCALARS
)  # fmt: skip
PAIR_GROUPS: dict[str, tuple[int, int]] = {}
"""Name -> (start, stop) of each group of units in a pair vector."""
_start = 0
for _name, _width in (
    ("agent_type", len(AGENT_TYPES)),
    ("priority", len(PRIORITIES)),
    ("task_type", TASK_TYPE_BUCKETS),
    ("required_capability_ids", CAPABILITY_BUCKETS),
    ("agent_task_type", CROSS_BUCKETS),
    ("agent_capability_ids", CAPABILITY_BUCKETS),
    ("topology", TOPOLOGY_BUCKETS),
    ("coverage", 3),
    ("load", 3),
    ("recent_success", 2),
    ("swarm_size", 1),
):
    PAIR_GROUPS[_name] = (_start, _start + _width)
    _start += _width
assert _start == PAIR_SIZE
TASK_SIZE = len(PRIORITIES) + TASK_TYPE_BUCKETS + CAPABILITY_BUCKETS + TOPOLOGY_BUCKETS + 3

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class TaskFacts:
    task_type: str
    priority: str
    required_capabilities: tuple[str, ...]


@dataclass(frozen=True)
class AgentFacts:
    """An agent as it was when a task was assigned to it (``load`` before taking it)."""

    agent_type: str
    capabilities: tuple[str, ...]
    load: int
    max_load: int
    recent_success: float = 0.5
    attempts: int = 0

    @property
    def load_fraction(self) -> float:
        return min(1.0, self.load / self.max_load) if self.max_load > 0 else 1.0


@dataclass(frozen=True)
class SwarmFacts:
    topology: str = "none"
    size: int = 0


@dataclass(frozen=True)
class Candidate:
    """An agent that could have taken the task when it was assigned."""

    agent_id: str
    name: str
    agent: AgentFacts


@dataclass(frozen=True)
class Example:
    """One finished attempt and its labels (None where the label does not apply).

    ``outcome`` is 1 for completed, 0 for failed; timed-out attempts have none (a
    time-out is neither). ``duration_bucket`` applies to every finished attempt;
    ``coordination`` (the agent type, by index in :data:`AGENT_TYPES`) only to those
    that succeeded. ``position`` is the log position of the event that ended it.
    """

    position: int
    task_id: str
    agent_id: str
    task: TaskFacts
    agent: AgentFacts
    swarm: SwarmFacts
    outcome: int | None
    duration_seconds: float | None
    duration_bucket: int | None
    coordination: int | None
    candidates: tuple[Candidate, ...] = field(default=(), compare=False)
    """The agents that could have taken the task when it was assigned, in turn order."""
    swarm_id: str = ""
    """The pool the agent was chosen from ("" when unknown)."""


def coverage(required: Iterable[str], capabilities: Iterable[str]) -> float:
    """Share of the required capabilities the agent has (1.0 when none are required)."""
    wanted = set(required)
    if not wanted:
        return 1.0
    return len(wanted & set(capabilities)) / len(wanted)


def recent_success(outcomes: Sequence[int], prior: float = 0.5) -> float:
    """Success rate over the latest :data:`RECENT_WINDOW` outcomes, shrunk toward
    ``prior`` by one pseudo-observation (so an unknown agent scores ``prior``)."""
    window = list(outcomes)[-RECENT_WINDOW:]
    return (sum(window) + prior) / (len(window) + 1)


def duration_bucket(seconds: float) -> int:
    """The index of the duration bucket (see :data:`DURATION_EDGES`)."""
    for index, edge in enumerate(DURATION_EDGES):
        if seconds < edge:
            return index
    return len(DURATION_EDGES)


def agent_type_index(agent_type: str) -> int | None:
    return AGENT_TYPES.index(agent_type) if agent_type in AGENT_TYPES else None


def bucket(namespace: str, value: str, buckets: int, salt: int = 0) -> int:
    """A stable bucket for ``value`` (CRC-32: the same in every process and version)."""
    return zlib.crc32(f"{namespace}:{salt}:{value}".encode()) % buckets


def _one_hot(out: Vector, offset: int, names: Sequence[str], value: str) -> int:
    if value in names:
        out[offset + names.index(value)] = 1.0
    return offset + len(names)


def _hashed(out: Vector, offset: int, namespace: str, values: Iterable[str], buckets: int) -> int:
    for value in values:
        out[offset + bucket(namespace, value, buckets)] = 1.0
    return offset + buckets


def _double_hashed(out: Vector, offset: int, namespace: str, value: str, buckets: int) -> int:
    """Two units per value: two values rarely share both, so a linear layer can tell
    them apart even when one bucket collides."""
    for salt in (0, 1):
        out[offset + bucket(namespace, value, buckets, salt)] = 1.0
    return offset + buckets


def _task_part(out: Vector, offset: int, task: TaskFacts) -> int:
    offset = _one_hot(out, offset, PRIORITIES, task.priority)
    offset = _double_hashed(out, offset, "task_type", task.task_type, TASK_TYPE_BUCKETS)
    return _hashed(out, offset, "capability", task.required_capabilities, CAPABILITY_BUCKETS)


def encode_pair(task: TaskFacts, agent: AgentFacts, swarm: SwarmFacts) -> Vector:
    """The input of the outcome and duration models: :data:`PAIR_SIZE` floats."""
    out = np.zeros(PAIR_SIZE, dtype=np.float32)
    offset = _one_hot(out, 0, AGENT_TYPES, agent.agent_type)
    offset = _task_part(out, offset, task)
    cross = f"{agent.agent_type}|{task.task_type}"
    offset = _double_hashed(out, offset, "cross", cross, CROSS_BUCKETS)
    offset = _hashed(out, offset, "capability", agent.capabilities, CAPABILITY_BUCKETS)
    offset = _hashed(out, offset, "topology", [swarm.topology], TOPOLOGY_BUCKETS)
    required = set(task.required_capabilities)
    overlap = len(required & set(agent.capabilities))
    out[offset : offset + SCALARS] = (
        coverage(required, agent.capabilities),
        overlap / 4.0,
        len(required) / 4.0,
        agent.load_fraction,
        agent.load / 10.0,
        agent.max_load / 10.0,
        agent.recent_success,
        math.log1p(agent.attempts) / 5.0,
        swarm.size / 50.0,
    )
    return out


def encode_task(task: TaskFacts, swarm: SwarmFacts) -> Vector:
    """The input of the coordination model (no agent): :data:`TASK_SIZE` floats."""
    out = np.zeros(TASK_SIZE, dtype=np.float32)
    offset = _task_part(out, 0, task)
    offset = _hashed(out, offset, "topology", [swarm.topology], TOPOLOGY_BUCKETS)
    out[offset : offset + 3] = (
        len(task.required_capabilities) / 4.0,
        swarm.size / 50.0,
        PRIORITIES.index(task.priority) / 4.0 if task.priority in PRIORITIES else 0.5,
    )
    return out


def pair_mask(disabled: Iterable[str] = ()) -> Vector:
    """Ones over the pair vector, zeros over the named groups (see :data:`PAIR_GROUPS`):
    a model multiplies its inputs by it to leave those features out."""
    mask = np.ones(PAIR_SIZE, dtype=np.float32)
    for name in disabled:
        if name not in PAIR_GROUPS:
            raise ValueError(f"no feature group {name!r}; groups: {sorted(PAIR_GROUPS)}")
        start, stop = PAIR_GROUPS[name]
        mask[start:stop] = 0.0
    return mask


def encode_pairs(examples: Sequence[Example]) -> Vector:
    """The pair vectors of many examples, one row each."""
    if not examples:
        return np.zeros((0, PAIR_SIZE), dtype=np.float32)
    return np.stack([encode_pair(e.task, e.agent, e.swarm) for e in examples])


def encode_tasks(examples: Sequence[Example]) -> Vector:
    if not examples:
        return np.zeros((0, TASK_SIZE), dtype=np.float32)
    return np.stack([encode_task(e.task, e.swarm) for e in examples])
