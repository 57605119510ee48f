"""Plain-float twins of the Gram checks and the certificate, for one Gram given as rows.

A single small CPU problem is dispatch-bound: every numpy or torch operation costs microseconds,
more than its arithmetic (see ``docs/benchmarks/solvers.md``). These functions compute exactly what
their torch twins in :mod:`mooptim._validation` and :mod:`mooptim._certificate` compute, with the
same messages, touching only the interpreter.
"""

from __future__ import annotations

import math
from itertools import chain
from operator import mul, sub

import numpy as np

Rows = list[list[float]]


def diagonal_scale(rows: Rows) -> float:
    """``s = max_i |G_ii|`` of a Gram given as rows (0 for a zero Gram)."""
    return max(abs(rows[i][i]) for i in range(len(rows)))


def is_finite_rows(rows: Rows) -> bool:
    """Whether every entry is finite (a finite sum proves it; an infinite one may be overflow)."""
    if math.isfinite(sum(map(sum, rows))):
        return True
    return all(map(math.isfinite, chain.from_iterable(rows)))


def symmetrize_rows(rows: Rows, max_asymmetry: float = math.inf) -> Rows:
    """``(G + Gᵀ)/2`` of a Gram given as rows; the input itself when exactly symmetric.

    Raises:
        ValueError: ``max |G − Gᵀ| > max_asymmetry``.
    """
    cols = list(zip(*rows, strict=True))
    if all(map(tuple.__eq__, map(tuple, rows), cols)):
        return rows
    asym = max(map(abs, map(sub, chain.from_iterable(rows), chain.from_iterable(cols))))
    if asym > max_asymmetry:
        scale = diagonal_scale(rows) or 1.0
        raise ValueError(
            f"gram is not symmetric: max |G - G^T| / max|G_ii| = {asym / scale:.3g} > "
            f"tol = {max_asymmetry / scale:.3g}"
        )
    pairs = zip(rows, cols, strict=True)
    return [[0.5 * (a + b) for a, b in zip(r, c, strict=True)] for r, c in pairs]


def cholesky_rows(matrix: Rows, shift: float = 0.0) -> Rows | None:
    """Lower Cholesky factor of ``matrix + shift·I`` (row i holds its i + 1 leading entries).

    Reads the lower triangle only. Returns None when a pivot is not positive, i.e. when
    ``matrix + shift·I`` is not (numerically) positive definite.
    """
    low: Rows = []
    for i, mi in enumerate(matrix):
        row: list[float] = []
        for lj, mij in zip(low, mi, strict=False):
            row.append((mij - sum(map(mul, row, lj))) / lj[-1])
        pivot = mi[i] + shift - sum(map(mul, row, row))
        if not pivot > 0:
            return None
        row.append(math.sqrt(pivot))
        low.append(row)
    return low


def validate_gram_rows(rows: Rows, tol: float) -> Rows:
    """Twin of :func:`mooptim._validation.validate_gram` for one Gram given as rows.

    Returns:
        The rows symmetrised (the input itself when it is exactly symmetric, the common case for
        ``J Jᵀ``).

    Raises:
        ValueError: NaN/Inf, asymmetry or a negative eigenvalue beyond ``tol`` (relative to
            ``s = max_i |G_ii|``).
    """
    if not is_finite_rows(rows):
        raise ValueError("gram contains NaN or Inf")
    k = len(rows)
    scale = diagonal_scale(rows)
    rows = symmetrize_rows(rows, tol * (scale or 1.0))
    if cholesky_rows(rows, tol * k * scale) is None:
        # λ_min ≥ −K·tol ⇔ the shifted matrix is positive definite; eigvalsh only for the message.
        lam_min = float(np.linalg.eigvalsh(np.array(rows) / (scale or 1.0))[0])
        if lam_min < -tol * k:
            raise ValueError(
                "gram is not positive semidefinite: smallest eigenvalue / max|G_ii| = "
                f"{lam_min:.3g} < -{tol * k:.3g}"
            )
    return rows


def gram_times(gram: Rows, support: list[int], coef: list[float]) -> list[float]:
    """``w = G λ`` for ``λ`` supported on ``support`` with coefficients ``coef`` (G symmetric)."""
    w = [0.0] * len(gram)
    for s, c in zip(support, coef, strict=True):
        w = [wi + c * gi for wi, gi in zip(w, gram[s], strict=True)]
    return w


def kkt_certificate_rows(
    gram: Rows, support: list[int], coef: list[float], scale: float
) -> tuple[float, float, float]:
    """Twin of :func:`mooptim._certificate.kkt_certificate`: ``(f, gap, residual)``.

    λ is ``coef`` on ``support`` and 0 elsewhere; ``scale`` is ``s`` (1 for a zero Gram).
    """
    w = gram_times(gram, support, coef)
    f = sum(map(mul, coef, (w[s] for s in support)))
    stationarity = max(f - min(w), 0.0)
    slack = max(c * abs(w[s] - f) for s, c in zip(support, coef, strict=True))
    return f, 2 * stationarity, max(stationarity, slack) / scale


def dense_weights(k: int, support: list[int], coef: list[float]) -> list[float]:
    """λ as ``k`` floats: ``coef`` on ``support``, 0 elsewhere."""
    lam = [0.0] * k
    for s, c in zip(support, coef, strict=True):
        lam[s] = c
    return lam
