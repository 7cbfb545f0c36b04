"""The neural engine as the rest of swarmlog uses it: `swarmlog serve`, the CLI and
GraphQL all go through one :class:`NeuralService`.

It holds the example consumer, a *training* engine and the *active* engine (the one
predictions and the ``neural`` strategy use), and keeps the model registry
(:mod:`domain.neural`) in step with them through commands:

- **Weights are files, versions are events.** A new version's state dict is written
  to ``settings.neural_model_dir`` as a model file (:mod:`adapters.neural.modelfile`),
  then ``RecordModelVersion`` records its number, kind, span of the log, example
  count, held-out metrics, hyperparameters and the payload's SHA-256. A replay of the
  log rebuilds the registry; the weights are found again on disk by checksum.
- **Following the log** (:meth:`follow_once`): new examples are buffered; once
  ``update_every`` have gathered, the first time the engine trains from scratch, and
  afterwards it updates incrementally on the batch **less its newest**
  ``holdout`` **share**, which is held out (and carried over into the next batch,
  so nothing is lost). That share is new to both the candidate and the active model.
- **Automatic activation rule:** a new version is activated when no version is active,
  or when its outcome accuracy on those held-out examples is not worse than the
  active model's on the same examples. A full retraining is judged the same way, on
  the newest ``holdout`` share of the log (which the active model may have learned
  from: the rule then favours the active model, never the candidate). Any recorded
  version can also be activated by hand (:meth:`activate`).
- **Export / import:** an export is the active version without the replay buffers;
  an import is verified (format, checksum, feature layout, shapes) before anything
  is touched, recorded as an ``imported`` version and activated. A bad file is a
  ``MODEL_FILE_INVALID`` error and nothing changes.
- **Startup** (:meth:`load`): the active version's weights are loaded from the model
  directory by checksum; if they are missing, the next :meth:`follow_once` retrains
  from the log (a new version) and the process log says why.

Every public method is thread-safe: training, activation and imports take a lock;
predictions read the active engine, which is swapped whole, never changed in place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import Engine

from adapters.neural import modelfile
from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import EngineConfig, ModelVersion, NeuralEngine, Prediction
from adapters.neural.features import FEATURE_VERSION, Candidate, Example, SwarmFacts
from adapters.neural.modelfile import ModelFileInvalid
from adapters.neural.strategy import NeuralStrategy, agent_facts, task_facts
from adapters.settings import Settings
from application.assignment import eligible
from application.bus import CommandResult
from application.commands import ActivateModelVersion, Command, RecordModelVersion
from application.store import EventStore
from domain.agent import Agent
from domain.errors import DomainError, NotFound, ValidationError
from domain.neural import REGISTRY_ID, ModelRegistry
from domain.swarm import Swarm
from domain.task import Task

log = structlog.get_logger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: what a progress bar shows."""

SUFFIX = ".model"
ACTOR = "neural-engine"


class NoActiveModel(DomainError):
    """A prediction was asked for and no model version is active yet."""

    code = "NO_ACTIVE_MODEL"


@dataclass(frozen=True)
class Recommended:
    agent_id: str
    name: str
    probability: float
    confidence: float
    model_version: int


def config_of(settings: Settings, **overrides: Any) -> EngineConfig:
    """The engine's hyperparameters under ``settings`` (update size, seed)."""
    values: dict[str, Any] = {
        "update_every": settings.neural_update_every,
        "seed": settings.neural_seed,
        **overrides,
    }
    return EngineConfig(**values)


def _config_from(found: dict[str, Any]) -> EngineConfig:
    values = dict(found)
    values["disabled_features"] = tuple(values.get("disabled_features", ()))
    return EngineConfig(**values)


def _template(config: dict[str, Any]) -> dict[str, Any]:
    engine = NeuralEngine(_config_from(config))
    return dict(modelfile.plain(engine.state_dict(include_replay=False)))


def _jsonable(config: EngineConfig) -> dict[str, Any]:
    values = asdict(config)
    values["disabled_features"] = list(config.disabled_features)
    return values


class NeuralService:
    """See the module docstring."""

    def __init__(
        self,
        settings: Settings,
        store: EventStore,
        handle: Callable[..., CommandResult],
        read_models: Engine,
        config: EngineConfig | None = None,
    ) -> None:
        self.settings, self.store, self._handle = settings, store, handle
        self.model_dir = Path(settings.neural_model_dir)
        self.config = config or config_of(settings)
        self.consumer = ExampleConsumer(store, read_models)
        self.trainer = NeuralEngine(self.config)
        self.active: NeuralEngine | None = None
        self._lock = threading.RLock()
        self._loaded = False
        self._missing: str | None = None
        self._fed = -1
        self._buffer: list[Example] = []

    # ------------------------------------------------------------------ registry
    def registry(self) -> ModelRegistry | None:
        """The registry as the log has it now (None: nothing recorded yet)."""
        try:
            found: ModelRegistry = self.store.load(ModelRegistry, REGISTRY_ID)
        except NotFound:
            return None
        return found

    def _command(self, command: Command) -> CommandResult:
        return self._handle(command, actor=ACTOR)

    # ------------------------------------------------------------------ startup
    def load(self) -> None:
        """Set up the consumer's tables and load the active version's weights (once)."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self.consumer.setup()
            self._loaded = True
            self._sync(force=True)

    def _sync(self, force: bool = False) -> None:
        """Follow the registry's active version (another process may have changed it)."""
        registry = self.registry()
        number = None if registry is None else registry.active
        held = None if self.active is None or self.active.version is None else self.active.version
        if registry is None or number is None:
            return
        if not force and held is not None and held.number == number:
            return
        entry = registry.version_of(number)
        path = None if entry is None else self.find(entry["sha256"])
        try:
            if entry is None or path is None:
                raise ModelFileInvalid("not found", reason="missing")
            engine = self._engine_from(path, entry)
            self.trainer = self._engine_from(path, entry)
        except ModelFileInvalid as error:
            self._missing = (
                f"the weights of active version {number} are not usable in "
                f"{self.model_dir} ({error.details.get('reason')})"
            )
            log.warning("neural.weights_missing", version=number, model_dir=str(self.model_dir))
            return
        self.active = engine
        self._fed = (
            self.consumer.checkpoint() if entry["kind"] == "imported" else entry["last_position"]
        )
        self._missing = None
        self._buffer = []
        log.info("neural.loaded", version=number, path=str(path))

    def _engine_from(self, path: Path, entry: dict[str, Any]) -> NeuralEngine:
        found = modelfile.read(path, feature_version=FEATURE_VERSION, template_for=_template)
        return self._engine_of(found.state, entry)

    @staticmethod
    def _engine_of(state: dict[str, Any], entry: dict[str, Any]) -> NeuralEngine:
        engine = NeuralEngine(_config_from(state["config"]))
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

    # ------------------------------------------------------------------ learning
    def follow_once(self) -> ModelVersion | None:
        """Consume what is new in the log; train when a batch has gathered. The new
        version (recorded, and activated by the rule of the module docstring)."""
        with self._lock:
            self.load()
            self._sync()
            if self._missing is not None:
                log.warning("neural.retraining", reason=self._missing)
                return self.retrain(source=f"retrained at startup: {self._missing}")
            self.consumer.catch_up()
            if self._fed < 0:
                self._fed = 0
            new = self.consumer.examples(after=self._fed)
            if new:
                self._fed = new[-1].position
                self._buffer.extend(new)
            if len(self._buffer) < self.config.update_every:
                return None
            batch, self._buffer = self._buffer, []
            if self.trainer.version is None:
                candidate = self.trainer.train(batch)
                return self._publish(candidate, self._newest(batch), "trained from the log")
            held = max(1, int(len(batch) * self.config.holdout))
            fit, check = batch[:-held], batch[-held:]
            candidate = self.trainer.update(fit)
            self._buffer = list(check)
            return self._publish(candidate, check, "incremental update")

    def retrain(self, progress: Progress | None = None, source: str = "") -> ModelVersion:
        """Train from scratch on every example of the log (read again from the start)."""
        report = progress or (lambda _phase, _done, _total: None)
        with self._lock:
            self.load()
            self.consumer.reset()
            head = self.store.head()
            step = max(1, head // 20)
            for stop in range(step, head + step, step):
                self.consumer.catch_up(stop=min(stop, head))
                report("reading the log", min(stop, head), head)
            examples = self.consumer.examples()
            done: list[str] = []

            def trained(pattern: str) -> None:
                done.append(pattern)
                report("training", len(done), 3)

            engine = NeuralEngine(self.config)
            candidate = engine.train(examples, on_pattern=trained)
            self.trainer = engine
            self._fed = examples[-1].position if examples else 0
            self._buffer = []
            self._missing = None
            return self._publish(candidate, self._newest(examples), source or "full retraining")

    def _newest(self, examples: Sequence[Example]) -> list[Example]:
        share = int(len(examples) * self.config.holdout)
        return list(examples[-share:]) if share else []

    def _publish(
        self, candidate: ModelVersion, check: Sequence[Example], source: str
    ) -> ModelVersion:
        """Write the trainer's state, record the version, activate it if the rule says so."""
        registry = self.registry()
        number = 1 if registry is None else registry.next_number
        version = replace(candidate, number=number)
        measured = self.trainer.evaluate(check) if check else {}
        metrics = {p: m.as_dict() for p, m in measured.items()} or dict(candidate.validation)
        version = replace(version, validation=metrics)
        self.trainer.version = version
        self.trainer.history[-1:] = [version]
        path, sha = self._write(self.trainer.state_dict(), number)
        self._command(
            RecordModelVersion(
                number=number,
                kind=version.kind,
                first_position=version.first_position,
                last_position=version.last_position,
                examples=version.examples,
                metrics=metrics,
                hyperparameters=_jsonable(self.trainer.config),
                feature_version=FEATURE_VERSION,
                sha256=sha,
                source=source,
            )
        )
        log.info("neural.version_recorded", version=number, kind=version.kind, path=str(path))
        if self._better(measured, check):
            self._activate_engine(number, self._copy(self.trainer))
        return version

    def _better(self, measured: dict[str, Any], check: Sequence[Example]) -> bool:
        if self.active is None or self.active.version is None:
            return True
        if "outcome" not in measured or not check:
            return False
        theirs = self.active.evaluate(check)["outcome"].accuracy
        return bool(measured["outcome"].accuracy >= theirs)

    def _write(self, state: dict[str, Any], number: int) -> tuple[Path, str]:
        header = {"feature_version": FEATURE_VERSION, "config": _jsonable(self.trainer.config)}
        data, sha = modelfile.encode(state, header)
        path = self.model_dir / f"v{number}-{sha[:16]}{SUFFIX}"
        self.model_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)
        return path, sha

    @staticmethod
    def _copy(engine: NeuralEngine) -> NeuralEngine:
        """A separate engine with the same parameters (what predictions use)."""
        copy = NeuralEngine(engine.config)
        copy.load_state_dict(engine.state_dict(include_replay=False))
        copy.version = engine.version
        return copy

    # ------------------------------------------------------------------ activation
    def activate(self, number: int) -> dict[str, Any]:
        """Make recorded version ``number`` active (NOT_FOUND if unknown; its weights
        must be in the model directory: MODEL_FILE_INVALID otherwise)."""
        with self._lock:
            self.load()
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
            self._activate_engine(number, self._engine_from(path, entry))
            return self.status()

    def _activate_engine(self, number: int, engine: NeuralEngine) -> None:
        self._command(ActivateModelVersion(number=number))
        self.active = engine
        log.info("neural.version_activated", version=number)

    # ------------------------------------------------------------------ files
    def export(self, path: Path) -> dict[str, Any]:
        """Write the active version (without replay buffers) to ``path``."""
        with self._lock:
            self.load()
            engine = self._require()
            assert engine.version is not None
            registry = self.registry()
            entry = registry.version_of(engine.version.number) if registry else None
            header = {
                "feature_version": FEATURE_VERSION,
                "config": _jsonable(engine.config),
                "version": {k: v for k, v in (entry or {}).items() if not k.endswith("_at")},
            }
            sha = modelfile.write(path, engine.state_dict(include_replay=False), header)
            return {"path": str(path), "sha256": sha, "version": engine.version.number}

    def import_(self, path: Path) -> dict[str, Any]:
        """Verify ``path`` completely, then record it as an ``imported`` version and
        activate it. MODEL_FILE_INVALID (nothing changed) if it is not a usable file."""
        found = modelfile.read(path, feature_version=FEATURE_VERSION, template_for=_template)
        with self._lock:
            self.load()
            meta = found.header.get("version") or {}
            registry = self.registry()
            number = 1 if registry is None else registry.next_number
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
            engine = self._engine_of(found.state, entry)
            self._command(
                RecordModelVersion(
                    number=number,
                    kind="imported",
                    first_position=entry["first_position"],
                    last_position=entry["last_position"],
                    examples=entry["examples"],
                    metrics=entry["metrics"],
                    hyperparameters=_jsonable(engine.config),
                    feature_version=FEATURE_VERSION,
                    sha256=found.sha256,
                    source=f"imported from {path.name}"[:500],
                )
            )
            self._activate_engine(number, engine)
            self.trainer = self._engine_of(found.state, entry)
            self._fed, self._buffer, self._missing = self.consumer.checkpoint(), [], None
            return {"path": str(path), "sha256": found.sha256, "version": number}

    # ------------------------------------------------------------------ reading
    def _require(self) -> NeuralEngine:
        engine = self.active
        if engine is None or engine.version is None:
            raise NoActiveModel(
                "no neural model is active yet: train one (swarmlog neural train, or the "
                "trainNeuralModel mutation) or import one"
            )
        return engine

    def current(self) -> NeuralEngine | None:
        """The active engine, loading it on first use (what the strategy asks)."""
        self.load()
        return self.active

    def strategy(self) -> NeuralStrategy:
        """The ``neural`` assignment strategy over this service's active model."""
        return NeuralStrategy(
            engine=self.current,
            history=self.consumer.agent_history,
            swarm_of=lambda pool: self.consumer.swarm_facts(str(pool)),
            min_confidence=self.settings.neural_min_confidence,
        )

    def _facts(self, task_id: UUID) -> tuple[Task, SwarmFacts]:
        task: Task = self.store.load(Task, task_id)
        swarm = (
            SwarmFacts() if task.swarm_id is None else self.consumer.swarm_facts(str(task.swarm_id))
        )
        return task, swarm

    def _candidate(self, agent: Agent) -> Candidate:
        known = self.consumer.agent_history([str(agent.id)])
        return Candidate(
            str(agent.id), agent.name, agent_facts(agent, *known.get(str(agent.id), ((), 0)))
        )

    def predict_outcome(self, task_id: UUID, agent_id: UUID) -> Prediction:
        """P(failed), P(completed) of ``task`` if ``agent`` (as it is now) took it."""
        self.load()
        engine = self._require()
        task, swarm = self._facts(task_id)
        agent: Agent = self.store.load(Agent, agent_id)
        return engine.predict_outcome(task_facts(task), self._candidate(agent).agent, swarm)

    def recommend(self, task_id: UUID, k: int = 3) -> list[Recommended]:
        """The ``k`` agents of the task's swarm that can take it now, most likely to
        complete it first."""
        if not 1 <= k <= 100:
            raise ValidationError("k must be between 1 and 100", field="k")
        self.load()
        engine = self._require()
        task, swarm = self._facts(task_id)
        if task.swarm_id is None:
            raise ValidationError("the task belongs to no swarm: no agents to rank", field="taskId")
        members = self.store.load(Swarm, task.swarm_id).members
        agents = eligible([self.store.load(Agent, UUID(m)) for m in members])
        known = self.consumer.agent_history([str(a.id) for a in agents])
        candidates = [
            Candidate(str(a.id), a.name, agent_facts(a, *known.get(str(a.id), ((), 0))))
            for a in agents
        ]
        found = engine.recommend(task_facts(task), candidates, k=k, swarm=swarm)
        return [Recommended(**asdict(r)) for r in found]

    def evaluate(self) -> dict[str, Any]:
        """The active model's metrics on the examples it has not learned from (those
        after its span), or, when there are none, on the newest held-out share of
        the log (which it may have seen: then ``unseen`` is false)."""
        with self._lock:
            self.load()
            engine = self._require()
            assert engine.version is not None
            self.consumer.catch_up()
            unseen = self.consumer.examples(after=engine.version.last_position)
            rows = unseen if unseen else self._newest(self.consumer.examples())
            metrics = engine.evaluate(rows) if rows else {}
            return {
                "version": engine.version.number,
                "examples": len(rows),
                "unseen": bool(unseen),
                "metrics": {p: m.as_dict() for p, m in metrics.items()},
            }

    def status(self) -> dict[str, Any]:
        """Versions (with metrics, spans, kinds), the active one, examples, checkpoint."""
        self.load()
        registry = self.registry()
        versions = [] if registry is None else [registry.version_of(n) for n in registry.numbers()]
        return {
            "active": None if registry is None else registry.active,
            "loaded": None
            if self.active is None or self.active.version is None
            else self.active.version.number,
            "versions": versions,
            "examples": self.consumer.count(),
            "checkpoint": self.consumer.checkpoint(),
            "head": self.store.head(),
            "pending": len(self._buffer),
            "model_dir": str(self.model_dir),
        }

    def follow(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Call :meth:`follow_once` until ``stop`` is set (a failure is logged, not fatal)."""
        while not stop.is_set():
            try:
                self.follow_once()
            except Exception:
                log.exception("neural.follow_failed")
            stop.wait(poll_seconds)


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
