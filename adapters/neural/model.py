"""The network and its compiled functions: the only module that touches Flax and optax.

The model is dense (ReLU) -> dropout -> dense of half the width (ReLU) -> dense ->
softmax. Training and prediction go through ``jax.jit`` over pure functions of the
parameter pytree (linen's ``apply``), the fast path: no per-call graph traversal.
Dropout is active only in the training step, with a key derived from the seed and
the step number, so a fixed seed replays bit for bit on one machine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
import optax
from flax import linen as nn

Params = Any
"""A parameter pytree (nested dicts of arrays)."""


@dataclass(frozen=True)
class ModelSpec:
    """The shape and training hyperparameters of one classifier."""

    inputs: int
    classes: int
    hidden: int = 64
    dropout: float = 0.2
    learning_rate: float = 2e-3
    batch_size: int = 128
    seed: int = 0
    weight_decay: float = 0.0
    """Decoupled weight decay (AdamW) when above zero; plain Adam otherwise."""


class MLP(nn.Module):
    hidden: int
    classes: int
    dropout: float

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        x = nn.relu(nn.Dense(self.hidden)(x))
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
        x = nn.relu(nn.Dense(max(1, self.hidden // 2))(x))
        return nn.Dense(self.classes)(x)  # logits; softmax in ``probabilities``


StepFn = Callable[
    [Params, Any, jax.Array, jax.Array, jax.Array, jax.Array], tuple[Params, Any, jax.Array]
]
PredictFn = Callable[[Params, jax.Array], jax.Array]


@dataclass(frozen=True)
class Compiled:
    """The jit-compiled functions of one spec: init, one Adam step, probabilities."""

    spec: ModelSpec
    module: MLP
    optimizer: optax.GradientTransformation
    step: StepFn
    probabilities: PredictFn

    def init(self) -> tuple[Params, Any]:
        key = jax.random.PRNGKey(self.spec.seed)
        dummy = jnp.zeros((1, self.spec.inputs), jnp.float32)
        params = self.module.init(key, dummy, train=False)["params"]
        return params, self.optimizer.init(params)


@functools.cache
def compile_spec(spec: ModelSpec) -> Compiled:
    """The compiled functions of ``spec`` (cached: engines of one spec share them)."""
    module = MLP(spec.hidden, spec.classes, spec.dropout)
    optimizer = (
        optax.adamw(spec.learning_rate, weight_decay=spec.weight_decay)
        if spec.weight_decay > 0
        else optax.adam(spec.learning_rate)
    )

    def loss(params: Params, x: jax.Array, y: jax.Array, w: jax.Array, key: jax.Array) -> jax.Array:
        logits = module.apply({"params": params}, x, train=True, rngs={"dropout": key})
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        return jnp.sum(losses * w) / jnp.maximum(jnp.sum(w), 1.0)

    def step(
        params: Params, opt_state: Any, x: jax.Array, y: jax.Array, w: jax.Array, key: jax.Array
    ) -> tuple[Params, Any, jax.Array]:
        value, grads = jax.value_and_grad(loss)(params, x, y, w, key)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    def probabilities(params: Params, x: jax.Array) -> jax.Array:
        logits: jax.Array = module.apply({"params": params}, x, train=False)  # type: ignore[assignment]
        return jax.nn.softmax(logits, axis=-1)

    return Compiled(spec, module, optimizer, jax.jit(step), jax.jit(probabilities))


def host_probabilities(params: Any, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The same forward pass in NumPy over host copies of the parameters (no dropout).

    For a handful of rows this beats a compiled call, whose fixed cost is the copy of
    the result back from the device (about 50 us on CPU against 10 us here).
    """
    h = x
    layers = [params[f"Dense_{i}"] for i in range(3)]
    for layer in layers[:-1]:
        h = np.maximum(h @ layer["kernel"] + layer["bias"], 0.0)
    logits = h @ layers[-1]["kernel"] + layers[-1]["bias"]
    logits = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return np.asarray(e / e.sum(axis=-1, keepdims=True), dtype=np.float32)


def dropout_key(seed: int, step: int) -> jax.Array:
    """The dropout key of training step ``step`` (a pure function of seed and step)."""
    return jax.random.fold_in(jax.random.PRNGKey(seed + 1), step)


def to_numpy(tree: Any) -> Any:
    """A copy of a pytree with NumPy leaves (for state dicts and comparisons)."""
    return jax.tree_util.tree_map(np.asarray, tree)


def to_device(tree: Any) -> Any:
    return jax.tree_util.tree_map(jnp.asarray, tree)
