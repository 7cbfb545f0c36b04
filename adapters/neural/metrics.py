"""Held-out metrics of a classifier: accuracy, log loss and expected calibration error.

Pure NumPy; ``probabilities`` is an ``(n, classes)`` array whose rows sum to one and
``labels`` an ``(n,)`` array of class indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

ECE_BINS = 15
EPSILON = 1e-7

Array = npt.NDArray[np.floating]
Labels = npt.NDArray[np.integer]


@dataclass(frozen=True)
class Metrics:
    count: int
    accuracy: float
    log_loss: float
    ece: float

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "accuracy": self.accuracy,
                "log_loss": self.log_loss, "ece": self.ece}  # fmt: skip


def accuracy(probabilities: Array, labels: Labels) -> float:
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def log_loss(probabilities: Array, labels: Labels) -> float:
    """Mean negative log-likelihood of the true class (clipped away from 0)."""
    chosen = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(chosen, EPSILON, 1.0))))


def expected_calibration_error(probabilities: Array, labels: Labels, bins: int = ECE_BINS) -> float:
    """Top-label ECE: over equal-width confidence bins, the share-weighted gap between
    mean confidence and accuracy."""
    confidence = np.max(probabilities, axis=1)
    correct = (np.argmax(probabilities, axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(float(confidence[mask].mean() - correct[mask].mean()))
    return float(total)


def measure(probabilities: Array, labels: Labels) -> Metrics:
    if len(labels) == 0:
        return Metrics(0, float("nan"), float("nan"), float("nan"))
    return Metrics(
        count=len(labels),
        accuracy=accuracy(probabilities, labels),
        log_loss=log_loss(probabilities, labels),
        ece=expected_calibration_error(probabilities, labels),
    )


def normalized_entropy(probabilities: Array) -> Array:
    """Entropy of each row divided by log(classes): 0 for certainty, 1 for uniform."""
    classes = probabilities.shape[-1]
    p = np.clip(probabilities, EPSILON, 1.0)
    entropy = -np.sum(p * np.log(p), axis=-1)
    return np.asarray(entropy / np.log(classes)) if classes > 1 else np.zeros(len(p))
