"""Held-out metrics: accuracy, log loss, expected calibration error, confidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adapters.neural.metrics import (
    accuracy,
    expected_calibration_error,
    log_loss,
    measure,
    normalized_entropy,
)


def binary(p: list[float]) -> np.ndarray:
    q = np.asarray(p, dtype=np.float64)
    return np.stack([1.0 - q, q], axis=1)


def test_accuracy_and_log_loss_of_a_small_case() -> None:
    probabilities, labels = binary([0.9, 0.2, 0.6]), np.array([1, 0, 0])
    assert accuracy(probabilities, labels) == pytest.approx(2 / 3)
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    assert log_loss(probabilities, labels) == pytest.approx(expected)


def test_a_calibrated_predictor_has_an_ece_near_zero() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    labels = (rng.uniform(0, 1, p.size) < p).astype(int)
    assert expected_calibration_error(binary(list(p)), labels) < 0.01


def test_an_overconfident_predictor_has_a_large_ece() -> None:
    labels = np.array([1, 0] * 50)
    assert expected_calibration_error(binary([0.99] * 100), labels) == pytest.approx(0.49)


def test_measure_of_nothing_is_not_a_number() -> None:
    assert math.isnan(measure(np.zeros((0, 2)), np.zeros(0, dtype=int)).accuracy)


def test_normalized_entropy_is_zero_when_certain_and_one_when_uniform() -> None:
    values = normalized_entropy(np.array([[1.0, 0.0], [0.5, 0.5]]))
    assert values[0] == pytest.approx(0.0, abs=1e-5)
    assert values[1] == pytest.approx(1.0)
