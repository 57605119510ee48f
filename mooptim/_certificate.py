"""Optimality certificate of the min-norm problem and the final simplex projection (torch).

Shared by every method: each one ends with :func:`project_to_simplex_safe` and reports
:func:`kkt_certificate`. Plain-float and numpy twins: :mod:`mooptim._rows`,
:mod:`mooptim._wolfe_numpy`.
"""

from __future__ import annotations

import torch
from torch import Tensor


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
