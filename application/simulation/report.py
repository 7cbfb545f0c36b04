"""What a simulation run reports, and the simulated clock it runs on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SimulationReport:
    seed: int
    strategy: str
    agents: int
    tasks: int
    commands: int = 0
    events: int = 0
    wall_seconds: float = 0.0
    simulated_seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    proposals: dict[str, int] = field(default_factory=dict)
    true_success_probability: float = 0.0
    """Mean ground-truth success probability of the assignments the strategy made."""

    @property
    def commands_per_second(self) -> float:
        return self.commands / self.wall_seconds if self.wall_seconds else 0.0


@dataclass
class SimulatedClock:
    """The bus's clock during a run: it reads ``now``, which the simulation advances."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now
