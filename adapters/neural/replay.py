"""A reservoir of past examples, mixed into incremental updates against forgetting."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int32]


class ReplayBuffer:
    """A uniform sample (reservoir sampling, Algorithm R) of every row ever added,
    at most ``capacity`` of them; deterministic for a given seed and input order."""

    def __init__(self, inputs: int, capacity: int = 20_000, seed: int = 0) -> None:
        self.capacity, self.seed = capacity, seed
        self.x = np.zeros((capacity, inputs), dtype=np.float32)
        self.y = np.zeros(capacity, dtype=np.int32)
        self.seen = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return min(self.seen, self.capacity)

    def add(self, x: Floats, y: Ints) -> None:
        for row, label in zip(x, y, strict=True):
            if self.seen < self.capacity:
                slot = self.seen
            else:
                slot = int(self.rng.integers(0, self.seen + 1))
            if slot < self.capacity:
                self.x[slot], self.y[slot] = row, label
            self.seen += 1

    def sample(self, count: int) -> tuple[Floats, Ints]:
        """``count`` rows drawn without replacement (all of them when fewer are held)."""
        held = len(self)
        chosen = self.rng.choice(held, size=min(count, held), replace=False)
        return self.x[chosen], self.y[chosen]

    def state_dict(self) -> dict[str, Any]:
        held = len(self)
        return {
            "x": self.x[:held].copy(),
            "y": self.y[:held].copy(),
            "seen": self.seen,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        held = len(state["y"])
        self.x[:held], self.y[:held] = state["x"], state["y"]
        self.seen = int(state["seen"])
        self.rng.bit_generator.state = state["rng"]
