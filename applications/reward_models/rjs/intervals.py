"""95 % confidence intervals for position-swapped win / tie / lose counts.

Every judged prompt has one outcome (win, tie or lose), so the counts over ``n`` prompts are one
multinomial draw. Two kinds of interval:

* :func:`wilson_interval` — the Wilson score interval of one proportion (win rate, tie rate or
  lose rate): the set of ``p`` whose score test ``|p̂ − p| / sqrt(p (1 − p) / n) ≤ z`` does not
  reject, i.e. ``(p̂ + z²/2n ± z sqrt(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)`` (Wilson, 1927). Unlike
  the normal ``p̂ ± z sqrt(p̂(1 − p̂)/n)`` it stays inside ``[0, 1]`` and is not empty at 0 or n.
* :func:`bootstrap_win_minus_lose` — the percentile bootstrap of ``(win − lose) / n`` over
  prompts: resampling the ``n`` prompts with replacement is a multinomial draw of the three
  counts with the observed rates, so the replicates need only the counts (no per-prompt loop).

Both are pure functions of the counts; the bootstrap is deterministic for a given ``seed``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from applications.reward_models.evaluation.uncertainty import ConfidenceInterval

__all__ = [
    "BOOTSTRAP_SAMPLES",
    "LEVEL",
    "ConfidenceInterval",
    "bootstrap_win_minus_lose",
    "outcome_intervals",
    "wilson_interval",
]

LEVEL = 0.95
BOOTSTRAP_SAMPLES = 10_000


def _check(n: int, level: float) -> None:
    if n <= 0:
        raise ValueError(f"an interval needs at least one judged prompt, got n={n}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")


def wilson_interval(successes: int, n: int, level: float = LEVEL) -> ConfidenceInterval:
    """Wilson score interval of the proportion ``successes / n`` at confidence ``level``.

    Raises:
        ValueError: ``n <= 0``, ``successes`` outside ``[0, n]`` or ``level`` outside (0, 1).
    """
    _check(n, level)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, {n}], got {successes}")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0 and n the exact ends are 0 and 1; the formula leaves float rounding (1e-17) there.
    low = 0.0 if successes == 0 else center - half
    high = 1.0 if successes == n else center + half
    return ConfidenceInterval(p, low, high, level)


def bootstrap_win_minus_lose(
    win: int,
    tie: int,
    lose: int,
    level: float = LEVEL,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of ``(win − lose) / n`` over the ``n`` judged prompts.

    Raises:
        ValueError: a negative count, no prompt, ``samples < 1`` or ``level`` outside (0, 1).
    """
    if min(win, tie, lose) < 0:
        raise ValueError(f"counts must be >= 0, got win={win} tie={tie} lose={lose}")
    n = win + tie + lose
    _check(n, level)
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.array([win, tie, lose]) / n, size=samples)
    replicates = (counts[:, 0] - counts[:, 2]) / n
    alpha = (1 - level) / 2
    low, high = np.quantile(replicates, [alpha, 1 - alpha])
    return ConfidenceInterval((win - lose) / n, float(low), float(high), level)


def outcome_intervals(
    win: int, tie: int, lose: int, level: float = LEVEL, seed: int = 0
) -> dict[str, ConfidenceInterval]:
    """``{"win", "tie", "lose"}`` Wilson intervals and ``"win_minus_lose"`` bootstrap interval."""
    n = win + tie + lose
    out = {k: wilson_interval(c, n, level) for k, c in (("win", win), ("tie", tie), ("lose", lose))}
    out["win_minus_lose"] = bootstrap_win_minus_lose(win, tie, lose, level, seed=seed)
    return out
