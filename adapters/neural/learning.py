"""The service's training side: the *training* engine and the examples of the log it
has been fed (see :class:`~adapters.neural.service.NeuralService` for the rule of
batches, held-out shares and activation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import NeuralEngine
from adapters.neural.features import Example
from adapters.neural.types import EngineConfig, ModelVersion
from application.store import EventStore

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: what a progress bar shows."""


class Learner:
    """Buffers the log's new examples and trains the training engine on them."""

    def __init__(self, config: EngineConfig, store: EventStore, consumer: ExampleConsumer) -> None:
        self.config, self.store, self.consumer = config, store, consumer
        self.trainer = NeuralEngine(config)
        self.fed = -1
        self.buffer: list[Example] = []

    def follow(self) -> tuple[ModelVersion, list[Example], str] | None:
        """Consume what is new in the log; train when a batch has gathered. The
        candidate version, the held-out examples to judge it on, and its source."""
        self.consumer.catch_up()
        if self.fed < 0:
            self.fed = 0
        new = self.consumer.examples(after=self.fed)
        if new:
            self.fed = new[-1].position
            self.buffer.extend(new)
        if len(self.buffer) < self.config.update_every:
            return None
        batch, self.buffer = self.buffer, []
        if self.trainer.version is None:
            candidate = self.trainer.train(batch)
            return candidate, self.newest(batch), "trained from the log"
        held = max(1, int(len(batch) * self.config.holdout))
        fit, check = batch[:-held], batch[-held:]
        candidate = self.trainer.update(fit)
        self.buffer = list(check)
        return candidate, check, "incremental update"

    def retrain(self, progress: Progress | None = None) -> tuple[ModelVersion, list[Example]]:
        """Train from scratch on every example of the log (read again from the start):
        the candidate version and the newest held-out share to judge it on."""
        report = progress or (lambda _phase, _done, _total: None)
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
        self.fed = examples[-1].position if examples else 0
        self.buffer = []
        return candidate, self.newest(examples)

    def newest(self, examples: Sequence[Example]) -> list[Example]:
        """The newest ``holdout`` share of ``examples``."""
        return newest(examples, self.config.holdout)

    def snapshot(self) -> NeuralEngine:
        """A separate engine with the trainer's parameters (what predictions use)."""
        copy = NeuralEngine(self.trainer.config)
        copy.load_state_dict(self.trainer.state_dict(include_replay=False))
        copy.version = self.trainer.version
        return copy


def newest(examples: Sequence[Example], holdout: float) -> list[Example]:
    """The newest ``holdout`` share of ``examples`` (none when it rounds to nothing)."""
    share = int(len(examples) * holdout)
    return list(examples[-share:]) if share else []
