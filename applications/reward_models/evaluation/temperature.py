"""Temperature scaling of a reward model (Guo et al., 2017): one scalar T per trained model.

Rewards are divided by ``T``, so ``p = σ(Δ / T)``: ranking and accuracy are unchanged, only the
confidence moves. ``T`` minimizes the Bradley–Terry log loss ``mean softplus(−Δ / T)`` on a
**calibration split**, pairs disjoint from both the training and the test pairs (checked by
:func:`check_disjoint` on the pairs' texts). The loss is convex in ``a = 1 / T`` (second
derivative ``mean Δ² σ(aΔ) σ(−aΔ) ≥ 0``), so bisection on its derivative in ``log a`` finds the
global minimum; when the calibration pairs are separable (every Δ > 0) the optimum is at the
bound ``a = 1000`` and ``T`` is reported as ``0.001``. ``T > 1``: the model was over-confident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.evaluation.metrics import calibration_errors

__all__ = ["TemperatureScaling", "check_disjoint", "fit_temperature", "temperature_scale"]

_LOG_A_RANGE = (-3.0 * np.log(10.0), 3.0 * np.log(10.0))  # a = 1 / T in [1e-3, 1e3]


@dataclass(frozen=True)
class TemperatureScaling:
    """Fitted ``temperature`` and the test ECE / log loss before and after dividing by it."""

    temperature: float
    n_calibration: int
    n_test: int
    ece: float
    ece_scaled: float
    log_loss: float
    log_loss_scaled: float


def _diffs(reward_diff: object, name: str) -> np.ndarray:
    d = np.asarray(torch.as_tensor(reward_diff, dtype=torch.float64).cpu(), dtype=np.float64)
    if d.ndim != 1 or d.size == 0 or not np.isfinite(d).all():
        raise ValueError(f"{name} must be a non-empty finite 1-D array, got shape {d.shape}")
    return d


def _slope(a: float, d: np.ndarray) -> float:
    """d/da of mean softplus(−a·Δ) = mean −Δ·σ(−a·Δ)."""
    return float(np.mean(-d / (1.0 + np.exp(np.clip(a * d, -700.0, 700.0)))))


def fit_temperature(calibration_diff: object, iterations: int = 100) -> float:
    """``T`` minimizing ``mean softplus(−Δ / T)`` over the calibration pairs' ``Δ``."""
    d = _diffs(calibration_diff, "calibration_diff")
    lo, hi = _LOG_A_RANGE
    if _slope(np.exp(hi), d) < 0:  # still decreasing at the bound: separable pairs
        return float(np.exp(-hi))
    if _slope(np.exp(lo), d) > 0:  # increasing already: Δ anti-correlated, flatten fully
        return float(np.exp(-lo))
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if _slope(np.exp(mid), d) < 0:
            lo = mid
        else:
            hi = mid
    return float(np.exp(-0.5 * (lo + hi)))


def _key(pair: PreferencePair) -> tuple[str, str, str]:
    return (pair.prompt, pair.chosen, pair.rejected)


def check_disjoint(
    calibration: Iterable[PreferencePair], **others: Iterable[PreferencePair]
) -> None:
    """Raise if a calibration pair (prompt, chosen, rejected) also occurs in ``others``.

    Raises:
        ValueError: naming the split (the keyword) and the number of shared pairs.
    """
    keys = {_key(p) for p in calibration}
    for name, pairs in others.items():
        shared = sum(1 for p in pairs if _key(p) in keys)
        if shared:
            raise ValueError(
                f"{shared} calibration pair(s) also in the {name} pairs: the temperature would "
                "be fit on data it is judged on"
            )


def temperature_scale(
    calibration_diff: object,
    test_diff: object,
    n_bins: int = 10,
    *,
    calibration_pairs: Sequence[PreferencePair] | None = None,
    excluded: dict[str, Sequence[PreferencePair]] | None = None,
) -> TemperatureScaling:
    """Fit ``T`` on the calibration ``Δ`` alone, then score the test ``Δ`` before and after.

    When ``calibration_pairs`` and ``excluded`` (e.g. ``{"train": ..., "test": ...}``) are
    given, they are checked with :func:`check_disjoint` first.
    """
    if calibration_pairs is not None:
        check_disjoint(calibration_pairs, **(excluded or {}))
    temperature = fit_temperature(calibration_diff)
    test = torch.from_numpy(_diffs(test_diff, "test_diff"))
    before = calibration_errors(test, n_bins=n_bins)
    after = calibration_errors(test / temperature, n_bins=n_bins)
    return TemperatureScaling(
        temperature=temperature,
        n_calibration=_diffs(calibration_diff, "calibration_diff").size,
        n_test=test.numel(),
        ece=before.ece,
        ece_scaled=after.ece,
        log_loss=before.log_loss,
        log_loss_scaled=after.log_loss,
    )
