"""The result object shared by every min-norm method, and the optimality certificate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True)
class MinNormResult:
    """Solution of ``min_{λ ∈ Δ} λᵀGλ`` for every problem of a batch.

    Attributes:
        weights: ``[..., K]`` λ on the simplex (``λ ≥ 0``, ``Σλ = 1``), input dtype and device.
        min_norm_sq: ``[...]`` the objective ``λᵀGλ`` (squared norm of ``Σ λ_i g_i``), computed
            in float64 on the validated (symmetrised) Gram and cast to the input dtype.
        iterations: ``[...]`` int64 iterations of each problem: Wolfe steps (each at most one
            support solve) for ``exact``; steps for Frank-Wolfe/projected gradient; QP
            iterations for ``cvxpy``.
        kkt_residual: ``[...]`` scale-free optimality certificate, see :func:`kkt_certificate`.
        duality_gap: ``[...]`` Frank-Wolfe duality gap ``2(λᵀGλ − min_i (Gλ)_i) ≥ 0`` (units of
            G), i.e. ``max_{μ∈Δ} ∇f(λ)ᵀ(λ − μ)`` for ``f(λ) = λᵀGλ``. By convexity it bounds the
            suboptimality: ``λᵀGλ − min_{μ∈Δ} μᵀGμ ≤ duality_gap``.
        converged: ``[...]`` bool: the method's own stopping test passed (Wolfe's test for
            ``exact``, gap/residual ``≤ tol`` for the iterative methods, ``optimal`` status for
            ``cvxpy``); False when ``max_iter`` was reached first.
    """

    weights: Tensor
    min_norm_sq: Tensor
    iterations: Tensor
    kkt_residual: Tensor
    duality_gap: Tensor
    converged: Tensor


def gram_scale(gram: Tensor) -> Tensor:
    """``[...]`` the scale ``s = max_i |G_ii|`` of each Gram (1 where the Gram is zero).

    For a PSD matrix ``max_i G_ii = max_ij |G_ij|``, so this is the natural unit of every entry.
    """
    scale = gram.diagonal(dim1=-2, dim2=-1).abs().amax(dim=-1)
    return torch.where(scale > 0, scale, torch.ones_like(scale))


def kkt_certificate(gram: Tensor, weights: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Objective, duality gap and KKT residual of ``weights`` for ``min_{λ∈Δ} λᵀGλ``.

    With ``w = Gλ``, ``f = λᵀGλ`` and ``s = max_i G_ii`` (1 for a zero Gram), the KKT conditions of
    the simplex QP are ``w_i ≥ f`` for every i and ``w_i = f`` wherever ``λ_i > 0``. The residual is

        ``kkt_residual = max( max_i (f − w_i)_+ , max_i λ_i |w_i − f| ) / s``

    The first term is half the Frank-Wolfe duality gap ``2(f − min_i w_i) ≥ f − f*``, the second the
    complementary slackness violation weighted by λ (continuous in λ, unlike a support test).
    Both are invariant under ``G → cG``.

    Args:
        gram: ``[..., K, K]`` float64 Gram.
        weights: ``[..., K]`` float64 points of the simplex.

    Returns:
        ``(f, gap, residual)`` each ``[...]`` float64, ``gap = 2(f − min_i w_i)``.
    """
    w = (gram @ weights.unsqueeze(-1)).squeeze(-1)
    f = (weights * w).sum(-1)
    stationarity = (f - w.amin(-1)).clamp_min(0)
    slack = (weights * (w - f.unsqueeze(-1)).abs()).amax(-1)
    residual = torch.maximum(stationarity, slack) / gram_scale(gram)
    return f, 2 * stationarity, residual


def uniform_or_warm(gram: Tensor, warm_start: Tensor | None) -> Tensor:
    """``[B, K]`` start of the iterative methods: a copy of the warm start, else uniform."""
    if warm_start is not None:
        return warm_start.clone()
    bsz, k = gram.shape[0], gram.shape[-1]
    return torch.full((bsz, k), 1.0 / k, dtype=gram.dtype, device=gram.device)


def project_to_simplex_safe(weights: Tensor) -> Tensor:
    """Clip to ``λ ≥ 0`` and renormalise; rows that sum to 0 (or are non-finite) become uniform.

    Used once at the end of every method so that rounding can never leave the simplex.
    """
    k = weights.shape[-1]
    w = torch.nan_to_num(weights, nan=0.0, posinf=0.0, neginf=0.0).clamp_min(0)
    total = w.sum(-1, keepdim=True)
    uniform = torch.full_like(w, 1.0 / k)
    return torch.where(total > 0, w / torch.where(total > 0, total, 1.0), uniform)


def kkt_certificate_host(gram: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """numpy twin of :func:`kkt_certificate` for one problem: ``(f, gap, residual)``."""
    w = gram @ weights
    f = float(weights @ w)
    stationarity = max(f - float(w.min()), 0.0)
    slack = float((weights * np.abs(w - f)).max())
    scale = float(np.abs(np.diagonal(gram)).max()) or 1.0
    return f, 2 * stationarity, max(stationarity, slack) / scale


def project_to_simplex_safe_host(weights: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`project_to_simplex_safe` for one problem."""
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    total = w.sum()
    return w / total if total > 0 else np.full_like(w, 1.0 / len(w))
