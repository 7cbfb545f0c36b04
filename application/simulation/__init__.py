"""Workload simulation: a hidden, seeded ground truth that drives the command bus.

``config`` loads a :class:`~application.simulation.config.SimulationConfig` from
TOML; ``ground_truth`` holds the pure functions that define each assignment's
true success probability and duration, the oracle used to measure regret, and
the seeded :func:`~application.simulation.ground_truth.plan_workload` generator.
"""
