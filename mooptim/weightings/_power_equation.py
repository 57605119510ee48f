"""Batched damped Newton for the equations ``G w = w^(-p)``, ``w > 0`` (Nash-MTL, FairGrad).

For ``p > 0`` the system is the stationarity condition of the strictly convex

    ``f(w) = ½ wᵀGw − Σ_i h(w_i)``,  ``h(w) = log w`` (p = 1),  ``w^(1−p) / (1−p)`` (p ≠ 1),

on ``w > 0`` (``h`` is concave: ``h'' = −p w^(−p−1) < 0``), so a solution is unique when it
exists. It exists iff no non-zero ``v ≥ 0`` has ``Gv = 0``, i.e. iff 0 is not in the convex hull
of the gradients (they are not Pareto-stationary): along such a ``v`` the objective decreases
forever. Such problems are detected first: where ``min_{λ∈Δ} λᵀGλ ≤ 1e-10·maxᵢ Gᵢᵢ`` (the hull's
min-norm point within 1e-5 relative of 0) the solution reports ``converged = False`` without
Newton steps. (Below that level float64 rounding in ``Gw`` decides the answer: an exactly
stationary G's rounding errors have "solutions".) The test is exact and mostly free: convexity
of ``λᵀGλ`` gives, for every ``v`` with ``min(Gv) > 0``, the lower bound
``min_{λ∈Δ} λᵀGλ ≥ (min_i (Gv)_i)² / vᵀGv`` (:func:`hull_lower_bound`), evaluated at the start
point; only the problems it leaves undecided get the exact min-norm solve (MGDA).

Newton runs on ``Gₙ = G / m`` (``m`` the mean diagonal) and rescales: ``w = wₙ · m^(−1/(1+p))``
solves the original system. Each step solves ``(G + diag(p w^(−p−1))) Δ = −∇f`` (Cholesky) and
takes the largest step of ``t_max · 2^(−j)`` that keeps ``w > 0`` and passes Armijo's test on
``f`` or decreases the residual (all candidates evaluated at once, no inner loop): near the
solution rounding in ``f`` can hide a decrease that the residual still shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mooptim.solver import MinNormSolver
from mooptim.weightings._power_equation_numpy import solve_power_equation_numpy

__all__ = [
    "PowerEquationSolution",
    "hull_lower_bound",
    "pareto_stationary",
    "residual_of",
    "solve_power_equation",
]

_HALVINGS = 40
# Gradients whose min-norm point λᵀGλ (MGDA, exact) is ≤ this relative to maxᵢ Gᵢᵢ are treated
# as Pareto-stationary (within 1e-5 in relative norm): rounding then decides the "solution".
STATIONARY_TOL = 1e-10
# Convergence is tested on the host every this many steps (not every step: no sync per step).
_CHECK_EVERY = 4


@dataclass(frozen=True)
class PowerEquationSolution:
    """Solution of ``G w = w^(−p)`` for every problem of a batch ``[...]``.

    Attributes:
        weights: ``[..., K]`` the positive solution (the last iterate where not converged).
        residual: ``[...]`` scale-free certificate: the backward error of :func:`residual_of`
            (0 at the solution).
        iterations: ``[...]`` Newton steps taken.
        converged: ``[...]`` ``residual ≤ tol`` within ``max_iter`` steps, and not stationary.
    """

    weights: Tensor
    residual: Tensor
    iterations: Tensor
    converged: Tensor


def _apply(gram: Tensor, w: Tensor) -> Tensor:
    """``G w`` for ``gram [B, K, K]`` (symmetric) and ``w [B, K]`` or ``[B, H, K]``."""
    if w.dim() == 2:
        return (gram @ w.unsqueeze(-1)).squeeze(-1)
    return w @ gram


def _h(w: Tensor, p: float) -> Tensor:
    return torch.log(w) if p == 1.0 else w.pow(1.0 - p) / (1.0 - p)


def _objective(gram: Tensor, w: Tensor, p: float) -> Tensor:
    """``f(w)`` for ``w [B, K]`` or ``[B, H, K]``; ``+inf`` outside ``w > 0``."""
    gw = _apply(gram, w)
    value = 0.5 * (w * gw).sum(-1) - _h(w.clamp_min(1e-300), p).sum(-1)
    return torch.where((w > 0).all(-1), value, torch.inf)


def residual_of(gram: Tensor, w: Tensor, p: float) -> Tensor:
    """Backward error ``maxᵢ |wᵢ^p (Gw)ᵢ − 1| / max(1, wᵢ^p (|G|w)ᵢ)``, ``[B]`` (or ``[B, H]``).

    ``w`` is ``[B, K]`` or ``[B, H, K]``; NaN stays NaN.

    Scale-free, and relative to the size of the terms summed in ``(Gw)ᵢ``, so rounding in
    cancelling sums (near-opposed gradients) cannot keep it above a tolerance near ``eps``.
    """
    wp = w.pow(p)
    gw = _apply(gram, w)
    magnitude = _apply(gram.abs(), w.abs()) * wp
    return ((wp * gw - 1.0).abs() / magnitude.clamp_min(1.0)).amax(-1)


def _start(gram: Tensor, warm_start: Tensor | None, p: float) -> Tensor:
    """The best multiple ``t v`` of the warm start (or ones): ``t^(1+p) = Σ v_i^(1−p) / vᵀGv``."""
    v = torch.ones_like(gram[..., 0]) if warm_start is None else warm_start.clone()
    v = torch.where((v > 0) & torch.isfinite(v), v, 1.0)
    quad = (v * (gram @ v.unsqueeze(-1)).squeeze(-1)).sum(-1)
    t = (v.pow(1.0 - p).sum(-1) / quad).pow(1.0 / (1.0 + p))
    t = torch.where(torch.isfinite(t) & (t > 0), t, 1.0)
    return t.unsqueeze(-1) * v


def _newton_step(gram: Tensor, w: Tensor, p: float) -> Tensor:
    """One damped Newton step from ``w [B, K]``."""
    grad = (gram @ w.unsqueeze(-1)).squeeze(-1) - w.pow(-p)
    hessian = gram + torch.diag_embed(p * w.pow(-p - 1.0))
    factor, info = torch.linalg.cholesky_ex(hessian)
    delta = -torch.cholesky_solve(grad.unsqueeze(-1), factor).squeeze(-1)
    delta = torch.where((info == 0).unsqueeze(-1), delta, -grad / hessian.diagonal(0, -2, -1))
    decrement = -(grad * delta).sum(-1)
    shrink = torch.where(delta < 0, -w / delta, torch.inf).amin(-1)
    t_max = torch.clamp(0.99 * shrink, max=1.0)
    steps = t_max.unsqueeze(-1) * 0.5 ** torch.arange(_HALVINGS, dtype=w.dtype, device=w.device)
    trial = w.unsqueeze(1) + steps.unsqueeze(-1) * delta.unsqueeze(1)
    f_trial = _objective(gram, trial, p)
    f_now = _objective(gram, w, p).unsqueeze(-1)
    armijo = f_trial <= f_now - 1e-4 * steps * decrement.unsqueeze(-1)
    # Where rounding in f hides the decrease (large, nearly cancelling wᵀGw), the residual decides.
    better = residual_of(gram, trial, p) < (1 - 1e-4 * steps) * residual_of(gram, w, p).unsqueeze(
        -1
    )
    accept = armijo | better
    first = torch.where(accept.any(-1), accept.int().argmax(-1), _HALVINGS - 1)
    t = steps.gather(-1, first.unsqueeze(-1)).squeeze(-1)
    return w + t.unsqueeze(-1) * delta


def solve_power_equation(
    gram: Tensor,
    p: float,
    *,
    warm_start: Tensor | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> PowerEquationSolution:
    """Solve ``G w = w^(−p)``, ``w > 0`` for PSD Gramians ``[..., K, K]``, ``p > 0``, in float64.

    Args:
        gram: symmetric PSD Gramians (any real floating dtype; solved in float64).
        p: the exponent (1 for Nash-MTL, ``1/α`` for FairGrad).
        warm_start: optional ``[..., K]`` positive start (only its direction is used).
        tol: convergence threshold on the residual (:func:`residual_of`).
        max_iter: Newton step cap.

    Returns:
        :class:`PowerEquationSolution` with leading shape ``[...]``, float64.
    """
    batch, k = gram.shape[:-2], gram.shape[-1]
    flat = gram.to(torch.float64).reshape(-1, k, k)
    warm = None if warm_start is None else warm_start.to(flat).reshape(-1, k)
    if flat.shape[0] == 1 and flat.device.type == "cpu":
        solution = _solve_one_on_host(flat, p, warm, tol, max_iter)
    else:
        solution = _solve_flat(flat, p, warm, tol, max_iter)
    return PowerEquationSolution(
        weights=solution.weights.reshape(*batch, k),
        residual=solution.residual.reshape(batch),
        iterations=solution.iterations.reshape(batch),
        converged=solution.converged.reshape(batch),
    )


def _solve_flat(
    gram: Tensor, p: float, warm_start: Tensor | None, tol: float, max_iter: int
) -> PowerEquationSolution:
    scale = gram.diagonal(0, -2, -1).mean(-1)
    scale = torch.where(scale > 0, scale, 1.0)
    gn = gram / scale.view(-1, 1, 1)
    w = _start(gn, warm_start, p)
    stationary = pareto_stationary(gn, w)
    done = (residual_of(gn, w, p) <= tol) | stationary
    iterations = torch.zeros_like(done, dtype=torch.int64)
    for step in range(max_iter):
        if step % _CHECK_EVERY == 0 and bool(done.all()):
            break
        w = torch.where(done.unsqueeze(-1), w, _newton_step(gn, w, p))
        iterations = iterations + (~done).long()
        done = done | (residual_of(gn, w, p) <= tol)
    residual = residual_of(gn, w, p)
    weights = w * scale.pow(-1.0 / (1.0 + p)).unsqueeze(-1)
    converged = (residual <= tol) & ~stationary
    return PowerEquationSolution(weights, residual, iterations, converged)


def _solve_one_on_host(
    gram: Tensor, p: float, warm_start: Tensor | None, tol: float, max_iter: int
) -> PowerEquationSolution:
    """:func:`_solve_flat` of one ``[1, K, K]`` CPU problem, in numpy (dispatch-bound in torch)."""
    warm = None if warm_start is None else warm_start[0].numpy()
    weights, residual, iterations, converged = solve_power_equation_numpy(
        gram[0].numpy(), p, warm, tol, max_iter, STATIONARY_TOL
    )
    return PowerEquationSolution(
        torch.from_numpy(weights)[None],
        torch.tensor([residual], dtype=torch.float64),
        torch.tensor([iterations]),
        torch.tensor([converged]),
    )


def hull_lower_bound(gram: Tensor, v: Tensor) -> Tensor:
    """``[B]`` lower bounds on ``min_{λ∈Δ} λᵀGλ`` from any ``v [B, K]``: ``(min_i (Gv)_i)² / vᵀGv``
    where ``min(Gv) > 0``, else 0.

    For ``λ ∈ Δ`` and ``μ = t v``, convexity gives ``λᵀGλ ≥ 2λᵀGμ − μᵀGμ ≥ 2t·min(Gv) − t²vᵀGv``;
    the best ``t`` gives the bound.
    """
    gv = _apply(gram, v)
    low, quad = gv.amin(-1), (v * gv).sum(-1)
    bound = low.square() / torch.where(quad > 0, quad, 1.0)
    return torch.where((low > 0) & (quad > 0), bound, 0.0)


def pareto_stationary(gram: Tensor, start: Tensor | None = None) -> Tensor:
    """``[B]`` the min-norm point of the gradients' hull is within ``√STATIONARY_TOL`` of 0.

    ``start`` (``[B, K]``): a point whose :func:`hull_lower_bound` decides most problems without
    the min-norm solve (one host read); the others get the exact solve (MGDA).
    """
    threshold = STATIONARY_TOL * gram.diagonal(0, -2, -1).amax(-1)
    if start is None:
        return _min_norm_sq(gram) <= threshold
    undecided = hull_lower_bound(gram, start) <= threshold
    stationary = torch.zeros_like(undecided)
    if bool(undecided.any()):
        stationary[undecided] = _min_norm_sq(gram[undecided]) <= threshold[undecided]
    return stationary


def _min_norm_sq(gram: Tensor) -> Tensor:
    """``[B]`` the exact ``min_{λ∈Δ} λᵀGλ`` (MGDA)."""
    solver = MinNormSolver(check_input=False)
    if gram.shape[0] == 1:  # one problem: a [K, K] CPU Gram takes the solver's host path
        return solver.solve_gram(gram[0]).min_norm_sq.to(gram.device)[None]
    return solver.solve_gram(gram).min_norm_sq
