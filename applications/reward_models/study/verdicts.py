"""From bootstrap replicates to verdicts: basic intervals, Holm's adjustment, four words.

* :func:`basic_interval` — the basic (reverse-percentile) bootstrap interval
  ``[2θ̂ − q_{1−a/2}, 2θ̂ − q_{a/2}]``. ECE is biased upward and its bootstrap replicates more so
  (a resample duplicates pairs: fewer distinct points per bin, larger |Σp − Σy|); for a
  better-calibrated model the bias is larger, so a difference's replicates are shrunk toward 0
  and the *percentile* interval inherits the shrinkage. The basic interval reflects it back
  (it is the percentile interval of ``2θ̂ − θ*``, first-order bias-corrected).
* :func:`p_value` — the two-sided bootstrap p-value that agrees with the basic interval: the
  level-(1 − a) basic interval excludes 0 exactly when ``p < a``.
* :func:`holm` — Holm's step-down adjustment of a family of p-values.
* :func:`verdict` — ``equivalent`` when the interval lies inside ``±margin``; else ``better`` /
  ``worse`` when it excludes 0 (lower is better: ECE, NLL); else ``inconclusive``.

Two comparisons are pre-registered as primary (MORE − MultiTask and MORE − balanced_uniform):
each is judged at level α unadjusted. Every other comparison is secondary: better / worse need
a Holm-adjusted p < α, and equivalence a Bonferroni-level (1 − α/m) interval inside the margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EQUIVALENCE_MARGIN",
    "VERDICTS",
    "Interval",
    "basic_interval",
    "holm",
    "judge",
    "p_value",
    "verdict",
]

EQUIVALENCE_MARGIN = 0.005
"""Default margin: an ECE difference within ±0.005 is practically no difference."""

VERDICTS = ("better", "worse", "equivalent", "inconclusive")


@dataclass(frozen=True)
class Interval:
    """Estimate, bias-corrected estimate ``2θ̂ − mean θ*``, basic interval, p-value."""

    estimate: float
    corrected: float
    low: float
    high: float
    level: float
    p: float

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def basic_interval(estimate: float, replicates: np.ndarray, level: float = 0.95) -> Interval:
    """The basic bootstrap interval of ``estimate`` from its ``replicates`` (module doc)."""
    reps = np.asarray(replicates, dtype=np.float64)
    if reps.ndim != 1 or reps.size < 2 or not np.isfinite(reps).all():
        raise ValueError(f"replicates must be a finite 1-D array of >= 2, got {reps.shape}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1.0 - level) / 2.0
    q_low, q_high = np.quantile(reps, [tail, 1.0 - tail])
    return Interval(
        float(estimate),
        float(2 * estimate - reps.mean()),
        float(2 * estimate - q_high),
        float(2 * estimate - q_low),
        level,
        p_value(estimate, reps),
    )


def p_value(estimate: float, replicates: np.ndarray) -> float:
    """``min(1, 2 min(P(θ* ≥ 2θ̂), P(θ* ≤ 2θ̂)))``: < a iff the basic interval excludes 0."""
    reps = np.asarray(replicates, dtype=np.float64)
    upper = float(np.mean(reps >= 2 * estimate))
    lower = float(np.mean(reps <= 2 * estimate))
    return min(1.0, 2.0 * min(upper, lower))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (step-down; monotone; capped at 1), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or ((p < 0) | (p > 1)).any():
        raise ValueError(f"p-values must be a 1-D array in [0, 1], got {p_values}")
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def verdict(low: float, high: float, margin: float = EQUIVALENCE_MARGIN) -> str:
    """``equivalent`` / ``better`` / ``worse`` / ``inconclusive`` for an interval of
    ``first − second`` of a lower-is-better metric (module doc)."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if -margin <= low and high <= margin:
        return "equivalent"
    if high < 0:
        return "better"
    if low > 0:
        return "worse"
    return "inconclusive"


def judge(
    deltas: dict[str, tuple[float, np.ndarray]],
    primary: Sequence[str],
    *,
    alpha: float = 0.05,
    margin: float = EQUIVALENCE_MARGIN,
) -> dict[str, dict[str, object]]:
    """Verdict of every comparison ``name → (estimate, replicates)`` of one metric.

    Primary comparisons: the level-(1 − α) interval. Secondary: Holm over the secondaries for
    better / worse, the level-(1 − α/m) interval for equivalence (module doc).
    """
    secondary = [n for n in deltas if n not in primary]
    adjusted = dict(zip(secondary, holm([p_value(*deltas[n]) for n in secondary]), strict=True))
    out: dict[str, dict[str, object]] = {}
    for name, (estimate, reps) in deltas.items():
        ci = basic_interval(estimate, reps, 1 - alpha)
        if name in primary:
            out[name] = {"role": "primary", "interval": ci.to_dict(), "p_holm": None,
                         "verdict": verdict(ci.low, ci.high, margin)}  # fmt: skip
            continue
        wide = basic_interval(estimate, reps, 1 - alpha / len(secondary))
        word = verdict(wide.low, wide.high, margin)
        if word == "inconclusive" and adjusted[name] < alpha:
            word = "better" if estimate < 0 else "worse"
        out[name] = {"role": "secondary", "interval": ci.to_dict(), "p_holm": adjusted[name],
                     "interval_bonferroni": wide.to_dict(), "verdict": word}  # fmt: skip
    return out
