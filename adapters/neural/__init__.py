"""The neural pattern engine (JAX, Flax, optax live here and nowhere else).

- :mod:`~adapters.neural.features`: pure feature extraction (facts -> vectors, labels);
- :mod:`~adapters.neural.tracker` / :mod:`~adapters.neural.consumer`: the checkpointed
  consumer that turns the event log into training examples, exactly once;
- :mod:`~adapters.neural.model` / :mod:`~adapters.neural.classifier`: the network, its
  jit-compiled step, training with early stopping, incremental updates with replay;
- :mod:`~adapters.neural.engine`: the :class:`NeuralEngine` facade;
- :mod:`~adapters.neural.trainer`: the engine following the log;
- :mod:`~adapters.neural.evaluation`: replaying assignment decisions to measure regret.

Importing this package does not import JAX; the modules that need it do.
"""
