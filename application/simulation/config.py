"""Simulation configuration: the parameters of the hidden ground truth, from TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

AgentTypeName = Literal[
    "coordinator", "researcher", "coder", "analyst", "architect", "tester",
    "reviewer", "optimizer", "documenter", "monitor", "specialist",
]  # fmt: skip
PriorityName = Literal["critical", "high", "normal", "low", "background"]
PRIORITIES: tuple[str, ...] = ("critical", "high", "normal", "low", "background")
DEFAULT_CONFIG_PATH = Path(__file__).parent / "configs" / "default.toml"


class ConfigError(ValueError):
    """A simulation config file could not be read or failed validation."""


def _ordered(bounds: tuple[int, int]) -> tuple[int, int]:
    if bounds[0] > bounds[1]:
        raise ValueError(f"range minimum {bounds[0]} exceeds maximum {bounds[1]}")
    return bounds


def _unique(names: list[str]) -> list[str]:
    if len(set(names)) != len(names):
        raise ValueError(f"names must be unique, got {names}")
    return names


IntRange = Annotated[tuple[Annotated[int, Field(ge=0)], int], AfterValidator(_ordered)]
NameList = Annotated[list[str], Field(min_length=1), AfterValidator(_unique)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SwarmSettings(_Frozen):
    count: int = Field(ge=1, le=100)
    topologies: NameList
    max_agents: int = Field(ge=1, le=1000)
    max_depth_range: IntRange = (1, 3)
    branching_factor_range: IntRange = (2, 4)


class SimulationConfig(_Frozen):
    """All parameters of the hidden model; see ``ground_truth`` for the formulas."""

    agent_types: Annotated[list[AgentTypeName], Field(min_length=1)]
    task_types: NameList
    capabilities_by_agent_type: dict[str, list[str]]
    capabilities_by_task_type: dict[str, list[str]]
    off_type_capability_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    affinity: dict[str, dict[str, float]] = Field(default_factory=dict)
    default_affinity: float = 0.0
    capability_weight: float = Field(ge=0.0)
    load_penalty: float = Field(le=0.0)
    priority_effect: dict[PriorityName, float] = Field(default_factory=dict)
    base_duration_seconds: dict[str, Annotated[float, Field(gt=0.0)]]
    duration_affinity_factor: float = Field(default=1.0, ge=0.0)
    duration_noise: float = Field(default=0.3, ge=0.0, le=3.0)
    swarms: SwarmSettings
    dependency_probability: float = Field(ge=0.0, le=1.0)
    max_dependencies: int = Field(ge=0, le=20)
    priority_weights: dict[PriorityName, Annotated[float, Field(ge=0.0)]]
    max_load_range: IntRange
    capabilities_per_agent: IntRange
    required_capabilities_per_task: IntRange
    max_retries: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _check_cross_references(self) -> SimulationConfig:
        agents: set[str] = set(self.agent_types)
        tasks = set(self.task_types)
        if len(agents) != len(self.agent_types):
            raise ValueError(f"agent_types must be unique, got {self.agent_types}")
        _same_keys("capabilities_by_agent_type", self.capabilities_by_agent_type, agents)
        _same_keys("capabilities_by_task_type", self.capabilities_by_task_type, tasks)
        _same_keys("base_duration_seconds", self.base_duration_seconds, tasks)
        for agent_type, row in self.affinity.items():
            if agent_type not in agents:
                raise ValueError(f"affinity: unknown agent type {agent_type!r}")
            if unknown := sorted(set(row) - tasks):
                raise ValueError(f"affinity.{agent_type}: unknown task types {unknown}")
        if sum(self.priority_weights.values()) <= 0:
            raise ValueError("priority_weights: at least one weight must be positive")
        if self.max_load_range[0] < 1:
            raise ValueError("max_load_range: every agent needs max_load >= 1")
        return self


def _same_keys(field: str, mapping: Mapping[str, object], expected: set[str]) -> None:
    if missing := sorted(expected - set(mapping)):
        raise ValueError(f"{field}: missing entries for {missing}")
    if unknown := sorted(set(mapping) - expected):
        raise ValueError(f"{field}: entries for types not in use {unknown}")


def load_config(path: str | Path | None = None) -> SimulationConfig:
    """Read and validate a TOML config; ``None`` loads the packaged default.toml.

    Raises ``FileNotFoundError`` for a missing file and :class:`ConfigError` (whose
    message names the file and each offending field) for bad TOML or bad values.
    """
    source = DEFAULT_CONFIG_PATH if path is None else Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: invalid TOML: {error}") from error
    try:
        return SimulationConfig.model_validate(data)
    except PydanticValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '<root>'}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigError(f"{source}: invalid simulation config: {problems}") from error
