"""What a trained model leaves for the analysis: reward differences, a curve, λ statistics.

Pure functions of numbers (no model): :class:`Scored` holds Δ = r(chosen) − r(rejected) of
one model on one source's test and calibration pairs; :func:`curve_point` summarizes Δ on the
curve subset after a step; :func:`weight_summary` turns per-step λ and gradient shares into the
per-source statistics of ``study.json``'s ``weights``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.evaluation.metrics import (
    calibration_errors,
    preference_accuracy,
    truth_calibration,
)

__all__ = ["STARVED", "Scored", "curve_point", "weight_summary"]

STARVED = 0.01
"""A step with λ_i below this starves source i."""


@dataclass(frozen=True)
class Scored:
    """Reward differences chosen − rejected of one trained model on one source's pairs;
    ``true_prob``: the simulator's gold P(chosen ≻ rejected) of the test pairs (real: ``None``)."""

    test: np.ndarray
    calibration: np.ndarray
    true_prob: np.ndarray | None


def curve_point(
    step: int, diffs: np.ndarray, pairs: Sequence[PreferencePair], n_bins: int = 10
) -> dict[str, float | int | None]:
    """``{step, ece, gold_ece, accuracy, mean_abs_diff}`` of Δ on the curve pairs (pooled)."""
    d = torch.from_numpy(np.asarray(diffs, dtype=np.float64))
    truth = [p.true_prob for p in pairs]
    gold = None
    if None not in truth:
        gold = truth_calibration(d, torch.tensor(truth, dtype=torch.float64), n_bins).ece
    return {
        "step": step,
        "ece": calibration_errors(d, n_bins=n_bins).ece,
        "gold_ece": gold,
        "accuracy": preference_accuracy(d).accuracy,
        "mean_abs_diff": float(d.abs().mean()),
    }


def weight_summary(
    weights: np.ndarray, grad_shares: np.ndarray | None, sources: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Per source: ``mean`` and ``std`` of λ over steps, ``mean_abs_change`` (mean |λ_t −
    λ_{t−1}|), ``effective_weight`` (mean gradient share λ_i‖g_i‖ / Σ_j λ_j‖g_j‖) and
    ``starved_fraction`` (share of steps with λ_i < :data:`STARVED`).

    Args:
        weights: ``[steps, K]`` λ per step.
        grad_shares: ``[steps, K]`` gradient shares per step (``None``: not measured, no
            ``effective_weight``).
    """
    weights = np.asarray(weights, dtype=np.float64)
    shares = weights if grad_shares is None else np.asarray(grad_shares, dtype=np.float64)
    if weights.ndim != 2 or weights.shape != shares.shape or weights.shape[1] != len(sources):
        raise ValueError(
            f"weights {weights.shape} / shares {shares.shape} vs {len(sources)} sources"
        )
    change = (
        np.abs(np.diff(weights, axis=0)).mean(0) if len(weights) > 1 else np.zeros(len(sources))
    )
    columns = {
        "mean": weights.mean(0),
        "std": weights.std(0),
        "mean_abs_change": change,
        "effective_weight": shares.mean(0),
        "starved_fraction": (weights < STARVED).mean(0),
    }
    if grad_shares is None:
        del columns["effective_weight"]
    return {key: dict(zip(sources, map(float, col), strict=True)) for key, col in columns.items()}
