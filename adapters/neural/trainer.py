"""Following the log: the example consumer feeds the engine, incrementally.

:meth:`LogTrainer.step` consumes what is new in the log and hands the new examples
to :meth:`NeuralEngine.observe`, which trains once a batch has gathered.
:meth:`LogTrainer.retrain` is the full retraining from the log (phase 2 makes it a
command): the consumer forgets everything, reads the log from the start, and the
engine is trained from scratch on all the examples.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.neural.consumer import ExampleConsumer
from adapters.neural.engine import NeuralEngine
from adapters.neural.types import ModelVersion


@dataclass
class LogTrainer:
    consumer: ExampleConsumer
    engine: NeuralEngine
    fed: int = -1
    """The log position up to which examples were handed to the engine (-1: unknown:
    resume after the engine's last version)."""

    def step(self) -> ModelVersion | None:
        """Catch up with the log; the new model version, if a batch was trained."""
        self.consumer.catch_up()
        if self.fed < 0:
            version = self.engine.version
            self.fed = 0 if version is None else version.last_position
            self.engine.pending = []
        new = self.consumer.examples(after=self.fed)
        if not new:
            return None
        self.fed = new[-1].position
        return self.engine.observe(new)

    def retrain(self) -> ModelVersion:
        """Rebuild the examples from the whole log and train from scratch on them."""
        self.consumer.reset()
        self.consumer.catch_up()
        examples = self.consumer.examples()
        self.fed = examples[-1].position if examples else 0
        return self.engine.train(examples)
