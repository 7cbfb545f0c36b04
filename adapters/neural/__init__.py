"""The neural pattern engine (JAX, Flax, optax live here and nowhere else).

- :mod:`~adapters.neural.features`: pure feature extraction (facts -> vectors, labels);
- :mod:`~adapters.neural.tracker` / :mod:`~adapters.neural.rows` /
  :mod:`~adapters.neural.consumer`: the checkpointed consumer that turns the event log
  into training examples, exactly once;
- :mod:`~adapters.neural.model` / :mod:`~adapters.neural.classifier`: the network, its
  jit-compiled step, training with early stopping, incremental updates with replay;
- :mod:`~adapters.neural.engine` / :mod:`~adapters.neural.types`: the :class:`NeuralEngine`
  facade and its plain data;
- :mod:`~adapters.neural.trainer`: the engine following the log;
- :mod:`~adapters.neural.evaluation`: replaying assignment decisions to measure regret;
- :mod:`~adapters.neural.service` (with :mod:`~adapters.neural.learning`,
  :mod:`~adapters.neural.registry_files`, :mod:`~adapters.neural.predictions`): the
  engine as the rest of swarmlog uses it.

Importing this package does not import JAX; the modules that need it do.
"""
