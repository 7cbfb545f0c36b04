"""The model registry (:mod:`domain.neural`) and the model files that hold its weights.

- **Weights are files, versions are events.** A new version's state dict is written
  to ``settings.neural_model_dir`` as a model file (:mod:`adapters.neural.modelfile`),
  then ``RecordModelVersion`` records its number, kind, span of the log, example
  count, held-out metrics, hyperparameters and the payload's SHA-256. A replay of the
  log rebuilds the registry; the weights are found again on disk by checksum.
- **Export / import:** an export is the active version without the replay buffers;
  an import is verified (format, checksum, feature layout, shapes) before anything
  is touched, recorded as an ``imported`` version and activated. A bad file is a
  ``MODEL_FILE_INVALID`` error and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from adapters.neural import modelfile
from adapters.neural.engine import NeuralEngine
from adapters.neural.features import FEATURE_VERSION
from adapters.neural.modelfile import ModelFile, ModelFileInvalid
from adapters.neural.types import EngineConfig, ModelVersion
from application.bus import CommandResult
from application.commands import Command, RecordModelVersion
from application.store import EventStore
from domain.errors import NotFound
from domain.neural import REGISTRY_ID, ModelRegistry

SUFFIX = ".model"
ACTOR = "neural-engine"


def config_from(found: dict[str, Any]) -> EngineConfig:
    """The hyperparameters a state dict or a model file's header records."""
    values = dict(found)
    values["disabled_features"] = tuple(values.get("disabled_features", ()))
    return EngineConfig(**values)


def _template(config: dict[str, Any]) -> dict[str, Any]:
    engine = NeuralEngine(config_from(config))
    return dict(modelfile.plain(engine.state_dict(include_replay=False)))


def jsonable(config: EngineConfig) -> dict[str, Any]:
    """The hyperparameters as JSON (what ``RecordModelVersion`` and headers carry)."""
    values = asdict(config)
    values["disabled_features"] = list(config.disabled_features)
    return values


def engine_of(state: dict[str, Any], entry: dict[str, Any]) -> NeuralEngine:
    """An engine with the parameters of ``state``, at the registry's version ``entry``."""
    engine = NeuralEngine(config_from(state["config"]))
    engine.load_state_dict(state)
    engine.version = ModelVersion(
        number=int(entry["number"]),
        kind=entry["kind"],
        first_position=int(entry["first_position"]),
        last_position=int(entry["last_position"]),
        examples=int(entry["examples"]),
        validation=dict(entry["metrics"]),
    )
    return engine


class RegistryFiles:
    """The registry as the log has it, the commands that record versions in it, and the
    model directory that holds each version's weights; see the module docstring."""

    def __init__(
        self, store: EventStore, handle: Callable[..., CommandResult], model_dir: Path
    ) -> None:
        self.store, self._handle, self.model_dir = store, handle, model_dir

    def registry(self) -> ModelRegistry | None:
        """The registry as the log has it now (None: nothing recorded yet)."""
        try:
            found: ModelRegistry = self.store.load(ModelRegistry, REGISTRY_ID)
        except NotFound:
            return None
        return found

    def command(self, command: Command) -> CommandResult:
        return self._handle(command, actor=ACTOR)

    def next_number(self) -> int:
        registry = self.registry()
        return 1 if registry is None else registry.next_number

    # ------------------------------------------------------------------ weights
    def find(self, sha256: str) -> Path | None:
        """The model file in the model directory whose payload has this checksum."""
        if not self.model_dir.is_dir():
            return None
        named = sorted(self.model_dir.glob(f"*-{sha256[:16]}{SUFFIX}"))
        others = [p for p in sorted(self.model_dir.glob(f"*{SUFFIX}")) if p not in named]
        for path in [*named, *others]:
            try:
                if modelfile.read_header(path).get("sha256") == sha256:
                    return path
            except (ModelFileInvalid, OSError):
                continue
        return None

    def weights_of(self, number: int) -> tuple[dict[str, Any], Path]:
        """Recorded version ``number`` and its model file (NOT_FOUND if unknown;
        MODEL_FILE_INVALID if its weights are not in the model directory)."""
        registry = self.registry()
        entry = None if registry is None else registry.version_of(number)
        if entry is None:
            known = ", ".join(map(str, registry.numbers())) if registry else "none"
            raise NotFound(f"no model version {number}; recorded: {known}", field="version")
        path = self.find(entry["sha256"])
        if path is None:
            raise ModelFileInvalid(
                f"the weights of version {number} are not in the model directory",
                reason="missing",
            )
        return entry, path

    def verify(self, path: Path) -> ModelFile:
        """``path`` read and checked completely (MODEL_FILE_INVALID if it is not usable)."""
        return modelfile.read(path, feature_version=FEATURE_VERSION, template_for=_template)

    def engine_from(self, path: Path, entry: dict[str, Any]) -> NeuralEngine:
        return engine_of(self.verify(path).state, entry)

    def write(self, state: dict[str, Any], config: EngineConfig, number: int) -> tuple[Path, str]:
        """Write version ``number``'s state to the model directory: its path and checksum."""
        header = {"feature_version": FEATURE_VERSION, "config": jsonable(config)}
        data, sha = modelfile.encode(state, header)
        path = self.model_dir / f"v{number}-{sha[:16]}{SUFFIX}"
        self.model_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)
        return path, sha

    # ------------------------------------------------------------------ versions
    def record(self, version: ModelVersion, config: EngineConfig, sha: str, source: str) -> None:
        """Record ``version`` (its metrics are its ``validation``) and its weights' checksum."""
        self.command(
            RecordModelVersion(
                number=version.number,
                kind=version.kind,
                first_position=version.first_position,
                last_position=version.last_position,
                examples=version.examples,
                metrics=version.validation,
                hyperparameters=jsonable(config),
                feature_version=FEATURE_VERSION,
                sha256=sha,
                source=source,
            )
        )

    # ------------------------------------------------------------------ files
    def export(self, path: Path, engine: NeuralEngine) -> dict[str, Any]:
        """Write ``engine``'s version (without replay buffers) to ``path``."""
        assert engine.version is not None
        registry = self.registry()
        entry = registry.version_of(engine.version.number) if registry else None
        header = {
            "feature_version": FEATURE_VERSION,
            "config": jsonable(engine.config),
            "version": {k: v for k, v in (entry or {}).items() if not k.endswith("_at")},
        }
        sha = modelfile.write(path, engine.state_dict(include_replay=False), header)
        return {"path": str(path), "sha256": sha, "version": engine.version.number}

    def import_(self, path: Path, found: ModelFile) -> tuple[dict[str, Any], NeuralEngine]:
        """Copy the verified file ``found`` (read from ``path``) into the model directory
        and record it as an ``imported`` version: its registry entry and its engine."""
        meta = found.header.get("version") or {}
        number = self.next_number()
        copy = self.model_dir / f"v{number}-{found.sha256[:16]}{SUFFIX}"
        self.model_dir.mkdir(parents=True, exist_ok=True)
        if copy.resolve() != path.resolve():
            copy.write_bytes(path.read_bytes())
        first = _int(meta.get("first_position"))
        entry = {
            "number": number,
            "kind": "imported",
            "first_position": first,
            "last_position": max(first, _int(meta.get("last_position"))),
            "examples": _int(meta.get("examples")),
            "metrics": _metrics(meta.get("metrics")),
        }
        engine = engine_of(found.state, entry)
        assert engine.version is not None
        self.record(engine.version, engine.config, found.sha256, f"imported from {path.name}"[:500])
        return entry, engine


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _metrics(value: Any) -> dict[str, dict[str, float]]:
    if not isinstance(value, dict):
        return {}
    return {
        str(pattern): {str(k): float(v) for k, v in found.items() if isinstance(v, int | float)}
        for pattern, found in value.items()
        if isinstance(found, dict)
    }
