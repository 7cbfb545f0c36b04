"""The neural engine as the rest of swarmlog uses it: `swarmlog serve`, the CLI and
GraphQL all go through one :class:`NeuralService`.

It holds the example consumer, a *training* engine and the *active* engine (the one
predictions and the ``neural`` strategy use), and keeps the model registry
(:mod:`domain.neural`) in step with them through commands; the weights are files and
the versions events, exported and imported as :mod:`adapters.neural.registry_files`
describes. Predictions are made by :mod:`adapters.neural.predictions`.

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
- **Startup** (:meth:`load`): the active version's weights are loaded from the model
  directory by checksum; if they are missing, the next :meth:`follow_once` retrains
  from the log (a new version) and the process log says why.

Every public method is thread-safe: training, activation and imports take a lock;
predictions read the active engine, which is swapped whole, never changed in place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import Engine

from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import NeuralEngine
from adapters.neural.features import Example
from adapters.neural.learning import Learner, Progress
from adapters.neural.modelfile import ModelFileInvalid
from adapters.neural.predictions import NoActiveModel, Predictions, Recommended
from adapters.neural.registry_files import RegistryFiles, engine_of
from adapters.neural.strategy import NeuralStrategy
from adapters.neural.types import EngineConfig, ModelVersion, Prediction
from adapters.settings import Settings
from application.bus import CommandResult
from application.commands import ActivateModelVersion
from application.store import EventStore
from domain.errors import ValidationError
from domain.neural import ModelRegistry

log = structlog.get_logger(__name__)


def config_of(settings: Settings, **overrides: Any) -> EngineConfig:
    """The engine's hyperparameters under ``settings`` (update size, seed)."""
    values: dict[str, Any] = {
        "update_every": settings.neural_update_every,
        "seed": settings.neural_seed,
        **overrides,
    }
    return EngineConfig(**values)


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
        self.learner = Learner(self.config, store, self.consumer)
        self.active: NeuralEngine | None = None
        self.files = RegistryFiles(store, handle, self.model_dir)
        self.predictions = Predictions(store, self.consumer)
        self._lock = threading.RLock()
        self._loaded = False
        self._missing: str | None = None

    # ------------------------------------------------------------------ registry
    def registry(self) -> ModelRegistry | None:
        """The registry as the log has it now (None: nothing recorded yet)."""
        return self.files.registry()

    def find(self, sha256: str) -> Path | None:
        """The model file in the model directory whose payload has this checksum."""
        return self.files.find(sha256)

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
            engine = self.files.engine_from(path, entry)
            self.learner.trainer = self.files.engine_from(path, entry)
        except ModelFileInvalid as error:
            self._missing = (
                f"the weights of active version {number} are not usable in "
                f"{self.model_dir} ({error.details.get('reason')})"
            )
            log.warning("neural.weights_missing", version=number, model_dir=str(self.model_dir))
            return
        self.active = engine
        self.learner.fed = (
            self.consumer.checkpoint() if entry["kind"] == "imported" else entry["last_position"]
        )
        self._missing = None
        self.learner.buffer = []
        log.info("neural.loaded", version=number, path=str(path))

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
            found = self.learner.follow()
            return None if found is None else self._publish(*found)

    def retrain(self, progress: Progress | None = None, source: str = "") -> ModelVersion:
        """Train from scratch on every example of the log (read again from the start)."""
        with self._lock:
            self.load()
            candidate, check = self.learner.retrain(progress)
            self._missing = None
            return self._publish(candidate, check, source or "full retraining")

    def _publish(
        self, candidate: ModelVersion, check: Sequence[Example], source: str
    ) -> ModelVersion:
        """Write the trainer's state, record the version, activate it if the rule says so."""
        number = self.files.next_number()
        version = replace(candidate, number=number)
        trainer = self.learner.trainer
        measured = trainer.evaluate(check) if check else {}
        metrics = {p: m.as_dict() for p, m in measured.items()} or dict(candidate.validation)
        version = replace(version, validation=metrics)
        trainer.version = version
        trainer.history[-1:] = [version]
        path, sha = self.files.write(trainer.state_dict(), trainer.config, number)
        self.files.record(version, trainer.config, sha, source)
        log.info("neural.version_recorded", version=number, kind=version.kind, path=str(path))
        if self._better(measured, check):
            self._activate_engine(number, self.learner.snapshot())
        return version

    def _better(self, measured: dict[str, Any], check: Sequence[Example]) -> bool:
        if self.active is None or self.active.version is None:
            return True
        if "outcome" not in measured or not check:
            return False
        theirs = self.active.evaluate(check)["outcome"].accuracy
        return bool(measured["outcome"].accuracy >= theirs)

    # ------------------------------------------------------------------ activation
    def activate(self, number: int) -> dict[str, Any]:
        """Make recorded version ``number`` active (NOT_FOUND if unknown; its weights
        must be in the model directory: MODEL_FILE_INVALID otherwise)."""
        with self._lock:
            self.load()
            entry, path = self.files.weights_of(number)
            self._activate_engine(number, self.files.engine_from(path, entry))
            return self.status()

    def _activate_engine(self, number: int, engine: NeuralEngine) -> None:
        self.files.command(ActivateModelVersion(number=number))
        self.active = engine
        log.info("neural.version_activated", version=number)

    # ------------------------------------------------------------------ files
    def export(self, path: Path) -> dict[str, Any]:
        """Write the active version (without replay buffers) to ``path``."""
        with self._lock:
            self.load()
            return self.files.export(path, self._require())

    def import_(self, path: Path) -> dict[str, Any]:
        """Verify ``path`` completely, then record it as an ``imported`` version and
        activate it. MODEL_FILE_INVALID (nothing changed) if it is not a usable file."""
        found = self.files.verify(path)
        with self._lock:
            self.load()
            entry, engine = self.files.import_(path, found)
            number = entry["number"]
            self._activate_engine(number, engine)
            self.learner.trainer = engine_of(found.state, entry)
            self.learner.fed, self.learner.buffer = self.consumer.checkpoint(), []
            self._missing = None
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

    def predict_outcome(self, task_id: UUID, agent_id: UUID) -> Prediction:
        """P(failed), P(completed) of ``task`` if ``agent`` (as it is now) took it."""
        self.load()
        return self.predictions.outcome(self._require(), task_id, agent_id)

    def recommend(self, task_id: UUID, k: int = 3) -> list[Recommended]:
        """The ``k`` agents of the task's swarm that can take it now, most likely to
        complete it first."""
        if not 1 <= k <= 100:
            raise ValidationError("k must be between 1 and 100", field="k")
        self.load()
        return self.predictions.recommend(self._require(), task_id, k)

    def evaluate(self) -> dict[str, Any]:
        """The active model's metrics on the examples it has not learned from (those
        after its span), or, when there are none, on the newest held-out share of
        the log (which it may have seen: then ``unseen`` is false)."""
        with self._lock:
            self.load()
            return self.predictions.evaluate(self._require(), self.config.holdout)

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
            "pending": len(self.learner.buffer),
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
