"""Wolfe's min-norm-point algorithm for one small problem, in plain Python floats.

The algorithm of :mod:`mooptim._wolfe`, with the tolerance and stopping rules of
:mod:`mooptim._wolfe_batched`, specialised to a single Gram matrix given as a list of rows. For one
CPU problem with a handful of objectives, numpy and torch cost far more per call than the
arithmetic: every operation pays a dispatch, and the first call after other work (a training step)
runs with cold caches through a large code path. Plain floats touch only the interpreter. Two
changes make the small case cheap:

* the corral system ``(G_SS + s·11ᵀ + ridge·s·I) α = 1`` is solved through a Cholesky factor that
  is *extended* by one row when an objective enters the corral (O(m²) instead of a fresh O(m³)
  solve) and refactored only after a minor cycle drops one;
* G is used unnormalised, with the ``+1`` of the normalised system, the ridge and the tolerance
  multiplied by ``s = max_i G_ii`` (exact when ``s`` is a power of two, so scaling G by a power of
  two scales every intermediate exactly and λ is bitwise unchanged).
"""

from __future__ import annotations

import math
from operator import mul

from mooptim._rows import Rows, cholesky_rows, gram_times
from mooptim._wolfe import RIDGE, SAME_2, default_max_iter


def min_norm_2_rows(gram: Rows) -> list[float]:
    """Plain-float twin of :func:`mooptim._wolfe_batched.min_norm_2` for one ``2 × 2`` problem."""
    a, b, c = gram[0][0], gram[1][1], gram[0][1]
    den = a + b - 2 * c
    if den > SAME_2 * (a + b):
        lam0 = min(max((b - c) / den, 0.0), 1.0)
    else:
        lam0 = 1.0 if a < b else 0.0 if a > b else 0.5
    return [lam0, 1.0 - lam0]


def _affine_minimizer(low: Rows) -> list[float]:
    """``α = M⁻¹1 / 1ᵀM⁻¹1`` for ``M = L Lᵀ`` given by its Cholesky rows."""
    z: list[float] = []
    for li in low:
        z.append((1.0 - sum(map(mul, li, z))) / li[-1])
    n = len(low)
    alpha = [0.0] * n
    for i in range(n - 1, -1, -1):
        acc = z[i]
        for r in range(i + 1, n):
            acc -= low[r][i] * alpha[r]
        alpha[i] = acc / low[i][i]
    total = sum(alpha)
    return [a / total for a in alpha]


def _corral_factor(gram: Rows, support: list[int], scale: float) -> Rows | None:
    block = [[gram[a][b] + scale for b in support] for a in support]
    return cholesky_rows(block, RIDGE * scale)


def _extend_factor(low: Rows, gram: Rows, support: list[int], j: int, scale: float) -> None:
    """Append objective ``j`` to the corral factor: one forward solve, O(m²)."""
    gj = gram[j]
    row: list[float] = []
    for lr, s in zip(low, support, strict=True):
        row.append((gj[s] + scale - sum(map(mul, row, lr))) / lr[-1])
    ridge = RIDGE * scale
    pivot = gj[j] + scale + ridge - sum(map(mul, row, row))
    # j entered because (Gλ)_j < λᵀGλ − tol, so it is affinely independent of the corral in exact
    # arithmetic; rounding can still leave a pivot at the ridge's level, which the ridge bounds.
    row.append(math.sqrt(max(pivot, ridge)))
    low.append(row)


def _initial_corral(
    gram: Rows, scale: float, warm_start: list[float] | None
) -> tuple[list[int], list[float], Rows]:
    """``(support, coefficients, factor)`` to start from: the warm start's support when its corral
    is affinely independent (its factor exists), else the vertex with the smallest ``G_ii``."""
    if warm_start is not None:
        support = [i for i, v in enumerate(warm_start) if v > 0]
        low = _corral_factor(gram, support, scale)
        if low is not None:
            return support, [warm_start[i] for i in support], low
    support = [min(range(len(gram)), key=lambda i: gram[i][i])]
    low = _corral_factor(gram, support, scale)
    assert low is not None  # a 1 × 1 block G_ii + s + ridge·s > 0 since s > 0
    return support, [1.0], low


def _towards(coef: list[float], alpha: list[float]) -> tuple[float, int, list[float]]:
    """Minor cycle: move from λ towards α until the first coefficient reaches 0.

    Returns ``(θ, dropped position, moved coefficients)``, the dropped one set to exactly 0.
    """
    theta, drop = math.inf, -1
    for p, (c, a) in enumerate(zip(coef, alpha, strict=True)):
        if a <= 0:
            ratio = c / max(c - a, 1e-300)
            if ratio < theta:
                theta, drop = ratio, p
    theta = min(max(theta, 0.0), 1.0)
    moved = [max(c + theta * (a - c), 0.0) for c, a in zip(coef, alpha, strict=True)]
    moved[drop] = 0.0
    return theta, drop, moved


def wolfe_min_norm_rows(
    gram: Rows,
    scale: float,
    warm_start: list[float] | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int | None = None,
) -> tuple[list[int], list[float], int, bool]:
    """Solve ``min_{λ∈Δ} λᵀGλ`` for one symmetric PSD Gram given as rows.

    Args:
        gram: ``K`` rows of ``K`` floats, symmetric (not normalised).
        scale: ``s = max_i G_ii > 0``; tolerances are relative to it.
        warm_start: a simplex point; its support is the initial corral (a corral that is not
            affinely independent is replaced by the default start). Default: the vertex with the
            smallest ``G_ii``.
        tol: Wolfe's test ``λᵀGλ − min_i (Gλ)_i ≤ tol·s``.
        max_iter: cap on Wolfe steps (default ``50 + 10·K``).

    Returns:
        ``(support, coefficients, iterations, converged)``: λ is ``coefficients`` on ``support``
        and 0 elsewhere.
    """
    k = len(gram)
    max_iter = default_max_iter(k) if max_iter is None else max_iter
    tol_s = tol * scale
    support, coef, low = _initial_corral(gram, scale, warm_start)
    last_added = -1
    for it in range(1, max_iter + 1):
        alpha = _affine_minimizer(low) if len(support) > 1 else [1.0]
        if min(alpha) > 0:
            w = gram_times(gram, support, alpha)
            f = sum(map(mul, alpha, (w[s] for s in support)))
            j = min(range(k), key=w.__getitem__)
            if f - w[j] <= tol_s or j in support:
                return support, alpha, it, True
            _extend_factor(low, gram, support, j, scale)
            support.append(j)
            coef = [*alpha, 0.0]
            last_added = j
            continue
        theta, drop, moved = _towards(coef, alpha)
        if theta <= 0 and support[drop] == last_added:
            # Rounding made a just-added objective leave at once: a fixed point, stop there.
            return support, coef, it, True
        support = [s for s, v in zip(support, moved, strict=True) if v > 0]
        coef = [v for v in moved if v > 0]
        factor = _corral_factor(gram, support, scale)
        if factor is None:  # unreachable in exact arithmetic: a sub-corral stays independent
            return support, coef, it, False
        low = factor
    return support, coef, max_iter, False
