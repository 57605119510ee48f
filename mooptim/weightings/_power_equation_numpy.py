"""One ``G w = w^(-p)`` problem on the CPU in numpy: the twin of :mod:`._power_equation`.

A single ``[K, K]`` problem is dispatch-bound in torch (a Newton step is some forty small ops,
each costing more to dispatch than to compute), so Nash-MTL and FairGrad solve one CPU problem
here: the same normalisation, start, Pareto-stationarity test, damped Newton step and stopping
rule as the batched solver, with the line search's candidates tried in order (the first accepted
is the one the batched solver picks from all of them at once). The two agree to rounding (the
tests compare them); every step is checked for convergence, as a host loop costs nothing to.
"""

from __future__ import annotations

import numpy as np
import torch

from mooptim.solver import MinNormSolver

__all__ = ["hull_lower_bound_numpy", "solve_power_equation_numpy"]

_HALVINGS = 40  # as the batched solver's line search


def _objective(gram: np.ndarray, w: np.ndarray, p: float) -> float:
    """``½wᵀGw − Σ h(wᵢ)`` (``h = log`` at p = 1, else ``w^(1−p)/(1−p)``); ``+inf`` off w > 0."""
    if not (w > 0).all():
        return np.inf
    h = np.log(w) if p == 1.0 else w ** (1.0 - p) / (1.0 - p)
    return 0.5 * float(w @ gram @ w) - float(h.sum())


def _residual(gram: np.ndarray, w: np.ndarray, p: float) -> float:
    """The backward error of :func:`._power_equation.residual_of` for one ``w [K]``."""
    wp = w**p
    magnitude = np.maximum((np.abs(gram) @ np.abs(w)) * wp, 1.0)
    return float((np.abs(wp * (gram @ w) - 1.0) / magnitude).max())


def hull_lower_bound_numpy(gram: np.ndarray, v: np.ndarray) -> float:
    """A lower bound on ``min_{λ∈Δ} λᵀGλ`` from any ``v`` (0 unless ``min(Gv) > 0``).

    As the batched :func:`._power_equation.hull_lower_bound`: ``(min_i (Gv)_i)² / vᵀGv``.
    """
    gv = gram @ v
    low, quad = float(gv.min()), float(v @ gv)
    return low * low / quad if low > 0 and quad > 0 else 0.0


def _start(gram: np.ndarray, warm_start: np.ndarray | None, p: float) -> np.ndarray:
    """As the batched ``_start``: the best multiple of the warm start (or of ones)."""
    k = gram.shape[0]
    v = np.ones(k) if warm_start is None else warm_start.copy()
    v = np.where((v > 0) & np.isfinite(v), v, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = ((v ** (1.0 - p)).sum() / float(v @ gram @ v)) ** (1.0 / (1.0 + p))
    return (t if np.isfinite(t) and t > 0 else 1.0) * v


def _newton_step(gram: np.ndarray, w: np.ndarray, p: float) -> np.ndarray:
    """One damped Newton step from ``w [K]`` (the batched ``_newton_step``, candidates in order)."""
    grad = gram @ w - w ** (-p)
    hessian = gram + np.diag(p * w ** (-p - 1.0))
    try:
        np.linalg.cholesky(hessian)  # the batched step's test: a Newton step only where H ≻ 0
        delta = -np.linalg.solve(hessian, grad)
    except np.linalg.LinAlgError:
        delta = -grad / hessian.diagonal()
    decrement = -float(grad @ delta)
    negative = delta < 0
    t_max = 1.0
    if negative.any():  # the largest step that keeps w > 0, shortened by 1 %
        t_max = min(0.99 * float((-w[negative] / delta[negative]).min()), 1.0)
    f_now, r_now = _objective(gram, w, p), _residual(gram, w, p)
    t = t_max
    for _ in range(_HALVINGS):
        trial = w + t * delta
        if _objective(gram, trial, p) <= f_now - 1e-4 * t * decrement:
            break
        if (trial > 0).all() and _residual(gram, trial, p) < (1 - 1e-4 * t) * r_now:
            break
        t *= 0.5
    else:
        t *= 2.0  # no candidate accepted: the batched step takes its last, smallest candidate
    return w + t * delta


def _pareto_stationary(gram: np.ndarray, threshold: float) -> bool:
    """The exact min-norm point of the hull (MGDA, host path) is at most ``threshold``."""
    weights = MinNormSolver(check_input=False).solve_gram_weights(torch.from_numpy(gram)).numpy()
    return float(weights @ gram @ weights) <= threshold


def solve_power_equation_numpy(
    gram: np.ndarray,
    p: float,
    warm_start: np.ndarray | None,
    tol: float,
    max_iter: int,
    stationary_tol: float,
) -> tuple[np.ndarray, float, int, bool]:
    """``(weights [K], residual, iterations, converged)`` of one symmetric float64 ``[K, K]``.

    The batched :func:`._power_equation.solve_power_equation` for one problem.
    """
    diagonal = gram.diagonal()
    scale = float(diagonal.mean())
    scale = scale if scale > 0 else 1.0
    gn = gram / scale
    w = _start(gn, warm_start, p)
    threshold = stationary_tol * float(gn.diagonal().max())
    stationary = hull_lower_bound_numpy(gn, w) <= threshold and _pareto_stationary(gn, threshold)
    residual = _residual(gn, w, p)
    iterations = 0
    while not stationary and residual > tol and iterations < max_iter:
        w = _newton_step(gn, w, p)
        residual = _residual(gn, w, p)
        iterations += 1
    weights = w * scale ** (-1.0 / (1.0 + p))
    return weights, residual, iterations, residual <= tol and not stationary
