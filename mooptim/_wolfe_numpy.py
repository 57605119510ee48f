"""Wolfe's min-norm-point method (see :mod:`mooptim._wolfe`) for one CPU problem, with numpy.

With the twins of the Gram checks, the certificate and the simplex projection for one ``[K, K]``
float64 problem. Used above :data:`mooptim._host.SMALL_K` objectives, where LAPACK's corral solves
beat plain-float arithmetic and per-operation torch dispatch (``docs/benchmarks/solvers.md``). The
corral system is solved on the support only, with the ridge, tolerance and stopping rules of
:mod:`mooptim._wolfe_batched` (so both give the same iterates up to rounding).
"""

from __future__ import annotations

import math

import numpy as np

from mooptim._wolfe import RIDGE, default_max_iter


def validate_gram_numpy(gram: np.ndarray, tol: float) -> np.ndarray:
    """Twin of :func:`mooptim._validation.validate_gram` for one problem (same messages).

    Returns:
        ``(G + Gᵀ)/2``.

    Raises:
        ValueError: NaN/Inf, asymmetry or a negative eigenvalue beyond ``tol`` (relative to
            ``max_i |G_ii|``).
    """
    # Any NaN/Inf entry makes the sum non-finite; a finite sum proves every entry finite.
    if not math.isfinite(gram.sum()) and not np.isfinite(gram).all():
        raise ValueError("gram contains NaN or Inf")
    k = gram.shape[0]
    scale = float(np.abs(np.diagonal(gram)).max()) or 1.0
    asym = float((gram - gram.T).max())  # antisymmetric: max(G − Gᵀ) = max|G − Gᵀ|
    if asym > tol * scale:
        raise ValueError(
            f"gram is not symmetric: max |G - G^T| / max|G_ii| = {asym / scale:.3g} > "
            f"tol = {tol:.3g}"
        )
    g = 0.5 * (gram + gram.T)
    shifted = g * (1.0 / scale)
    shifted.flat[:: k + 1] += tol * k
    try:  # λ_min ≥ −K·tol ⇔ the shifted matrix is positive definite; eigvalsh is 3× slower
        np.linalg.cholesky(shifted)
        return g
    except np.linalg.LinAlgError:
        pass
    lam_min = float(np.linalg.eigvalsh(g / scale)[0])
    if lam_min < -tol * k:
        raise ValueError(
            f"gram is not positive semidefinite: smallest eigenvalue / max|G_ii| = {lam_min:.3g} "
            f"< -{tol * k:.3g}"
        )
    return g


def kkt_certificate_numpy(gram: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """Twin of :func:`mooptim._certificate.kkt_certificate` for one problem: ``(f, gap, res)``."""
    w = gram @ weights
    f = float(weights @ w)
    stationarity = max(f - float(w.min()), 0.0)
    slack = float((weights * np.abs(w - f)).max())
    scale = float(np.abs(np.diagonal(gram)).max()) or 1.0
    return f, 2 * stationarity, max(stationarity, slack) / scale


def project_to_simplex_numpy(weights: np.ndarray) -> np.ndarray:
    """Twin of :func:`mooptim._certificate.project_to_simplex_safe` for one problem."""
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    total = w.sum()
    return w / total if total > 0 else np.full_like(w, 1.0 / len(w))


def _affine_minimizer(gp1: np.ndarray, support: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """``α ∝ (G_SS + 11ᵀ + ridge·I)⁻¹ 1`` on the support, normalised to ``Σα = 1``."""
    m = len(support)
    if m == 1:  # a single vertex is its own affine minimizer (the solve would give 1 too)
        return ones[:1]
    if m == 2:  # M⁻¹1 ∝ adj(M)1 = (M_22 − M_12, M_11 − M_12): no LAPACK call (dispatch)
        a, b = support
        m12 = gp1[a, b]
        alpha = np.array([gp1[b, b] - m12, gp1[a, a] - m12])
    else:
        alpha = np.linalg.solve(gp1.take(support, 0).take(support, 1), ones[:m])
    alpha /= alpha.sum()
    return alpha


def _towards(current: np.ndarray, alpha: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Minor cycle: ``(θ, dropped position, moved coefficients)`` of the move towards α."""
    blocking = np.flatnonzero(alpha <= 0)
    ratio = current[blocking] / np.maximum(current[blocking] - alpha[blocking], 1e-300)
    drop = int(blocking[np.argmin(ratio)])
    theta = min(max(float(ratio.min()), 0.0), 1.0)
    new = np.maximum(current + theta * (alpha - current), 0.0)
    new[drop] = 0.0
    return theta, drop, new


def wolfe_min_norm_numpy(
    gram: np.ndarray,
    warm_start: np.ndarray | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int | None = None,
) -> tuple[np.ndarray, int, bool]:
    """Solve ``min_{λ∈Δ} λᵀGλ`` for one problem.

    Args:
        gram: ``[K, K]`` float64, normalised to ``max_i G_ii = 1``.
        warm_start: ``[K]`` simplex point or None (default: the vertex with the smallest G_ii).
        tol: Wolfe's test ``λᵀGλ − min_i (Gλ)_i ≤ tol``.
        max_iter: cap on Wolfe steps (default ``50 + 10·K``).

    Returns:
        ``(weights [K], iterations, converged)``.
    """
    k = gram.shape[0]
    max_iter = default_max_iter(k) if max_iter is None else max_iter
    if warm_start is None:
        lam = np.zeros(k)
        lam[int(np.argmin(np.diag(gram)))] = 1.0
    else:
        lam = warm_start.copy()
    support = np.flatnonzero(lam > 0)
    # (G + 11ᵀ + ridge·I) once; each step only slices its support block.
    gp1 = gram + 1.0
    gp1.flat[:: k + 1] += RIDGE
    ones = np.ones(k)
    last_added = -1
    for it in range(1, max_iter + 1):
        alpha = _affine_minimizer(gp1, support, ones)
        if alpha.min() > 0:
            lam = np.zeros(k)
            lam[support] = alpha
            w = gram @ lam
            j = int(w.argmin())
            if lam @ w - w[j] <= tol or lam[j] > 0:
                return lam, it, True
            support = np.append(support, j)
            last_added = j
            continue
        theta, drop, new = _towards(lam[support], alpha)
        if theta <= 0 and support[drop] == last_added:
            return lam, it, True
        lam = np.zeros(k)
        lam[support] = new
        support = support[new > 0]
    return lam, max_iter, False
