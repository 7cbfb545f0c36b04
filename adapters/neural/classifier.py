"""One trainable classifier: full training with early stopping, incremental updates
with replay, probabilities, and a state dict of plain NumPy arrays.

Determinism: parameters start from ``PRNGKey(spec.seed)``; batches are shuffled by a
NumPy generator seeded from ``spec.seed`` and the epoch number; dropout keys come
from the seed and the global step. The same spec and the same data give the same
parameters.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from adapters.neural.metrics import Metrics, measure
from adapters.neural.model import (
    ModelSpec,
    compile_spec,
    dropout_key,
    host_probabilities,
    to_device,
    to_numpy,
)
from adapters.neural.replay import ReplayBuffer

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int32]
HOST_ROWS = 64
"""Up to this many rows, probabilities are computed in NumPy (see ``host_probabilities``)."""


class Classifier:
    """A softmax classifier over fixed-size inputs (see :mod:`adapters.neural.model`)."""

    def __init__(self, spec: ModelSpec, replay_capacity: int = 20_000) -> None:
        self.spec = spec
        self.compiled = compile_spec(spec)
        self._host: Any = None
        self.params, self.opt_state = self.compiled.init()
        self.steps = 0
        self.epochs = 0
        self.replay = ReplayBuffer(spec.inputs, replay_capacity, spec.seed)
        self.validation: Metrics | None = None

    # ------------------------------------------------------------------ training
    def fit(
        self,
        x: Floats,
        y: Ints,
        *,
        max_epochs: int = 60,
        patience: int = 6,
        holdout: float = 0.15,
    ) -> Metrics | None:
        """Train from scratch; the last ``holdout`` share of the rows (the newest, when
        rows are in log order) is held out for early stopping on log loss, and the
        parameters of the best epoch are kept. Returns their held-out metrics."""
        self.params, self.opt_state = self.compiled.init()
        self.steps = self.epochs = 0
        self.replay = ReplayBuffer(self.spec.inputs, self.replay.capacity, self.spec.seed)
        cut = len(y) - int(len(y) * holdout) if len(y) >= 20 else len(y)
        train_x, train_y, held_x, held_y = x[:cut], y[:cut], x[cut:], y[cut:]
        best, best_loss, waited = None, float("inf"), 0
        for _ in range(max_epochs):
            self._epoch(train_x, train_y)
            if len(held_y) == 0:
                continue
            metrics = self.evaluate(held_x, held_y)
            if metrics.log_loss < best_loss - 1e-4:
                best, best_loss, waited = (
                    (self.params, self.opt_state, metrics),
                    metrics.log_loss,
                    0,
                )
            else:
                waited += 1
                if waited >= patience:
                    break
        if best is not None:
            self.params, self.opt_state, self.validation = best
        self.replay.add(x, y)
        return self.validation

    def update(self, x: Floats, y: Ints, *, epochs: int = 2, replay_ratio: float = 1.0) -> None:
        """Incremental training on new rows mixed with ``replay_ratio`` times as many
        rows drawn from the replay buffer; the new rows then join the buffer."""
        if len(y) == 0:
            return
        old_x, old_y = self.replay.sample(int(len(y) * replay_ratio))
        mixed_x = np.concatenate([x, old_x]) if len(old_y) else x
        mixed_y = np.concatenate([y, old_y]) if len(old_y) else y
        for _ in range(epochs):
            self._epoch(mixed_x, mixed_y)
        self.replay.add(x, y)

    def _epoch(self, x: Floats, y: Ints) -> float:
        """One shuffled pass in fixed-size batches (the last one padded, weight 0)."""
        size = self.spec.batch_size
        order = np.random.default_rng([self.spec.seed, self.epochs]).permutation(len(y))
        self.epochs += 1
        total = 0.0
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            bx = np.zeros((size, x.shape[1]), np.float32)
            by = np.zeros(size, np.int32)
            bw = np.zeros(size, np.float32)
            bx[: len(rows)], by[: len(rows)], bw[: len(rows)] = x[rows], y[rows], 1.0
            self.params, self.opt_state, loss = self.compiled.step(
                self.params,
                self.opt_state,
                jnp.asarray(bx),
                jnp.asarray(by),
                jnp.asarray(bw),
                dropout_key(self.spec.seed, self.steps),
            )
            self.steps += 1
            total += float(loss) * len(rows)
        return total / max(1, len(y))

    # ------------------------------------------------------------------ using it
    @property
    def params(self) -> Any:
        return self._params

    @params.setter
    def params(self, value: Any) -> None:
        self._params, self._host = value, None

    def probabilities(self, x: Floats) -> Floats:
        """Class probabilities, one row per input row (no dropout); a few rows in NumPy,
        more through the compiled function."""
        if len(x) == 0:
            return np.zeros((0, self.spec.classes), np.float32)
        if len(x) <= HOST_ROWS:
            if self._host is None:
                self._host = to_numpy(self._params)
            return host_probabilities(self._host, np.asarray(x, np.float32))
        return np.asarray(self.compiled.probabilities(self._params, jnp.asarray(x, jnp.float32)))

    def evaluate(self, x: Floats, y: Ints) -> Metrics:
        return measure(self.probabilities(x).astype(np.float64), y)

    # ------------------------------------------------------------------ state
    def state_dict(self, *, include_replay: bool = True) -> dict[str, Any]:
        """Everything needed to resume: spec, parameters, Adam state, counters and (unless
        left out: it is by far the largest part) the replay buffer."""
        return {
            "spec": asdict(self.spec),
            "params": to_numpy(self.params),
            "opt_state": to_numpy(self.opt_state),
            "steps": self.steps,
            "epochs": self.epochs,
            "replay": self.replay.state_dict() if include_replay else None,
            "validation": None if self.validation is None else self.validation.as_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        spec = ModelSpec(**state["spec"])
        if spec != self.spec:
            self.spec, self.compiled = spec, compile_spec(spec)
        self.params = to_device(state["params"])
        _, template = self.compiled.init()
        import jax  # the Adam state's structure comes from a fresh init

        leaves = jax.tree_util.tree_leaves(state["opt_state"])
        treedef = jax.tree_util.tree_structure(template)
        self.opt_state = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(v) for v in leaves])
        self.steps, self.epochs = int(state["steps"]), int(state["epochs"])
        self.replay = ReplayBuffer(spec.inputs, self.replay.capacity, spec.seed)
        if state["replay"] is not None:
            self.replay.load_state_dict(state["replay"])
        found = state.get("validation")
        self.validation = None if found is None else Metrics(**found)
