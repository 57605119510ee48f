"""The min-norm solve restricted to the active objectives, as a pure function."""

from __future__ import annotations

from typing import Any

import torch

from mooptim.normalizers import normalize_gram


def solve_active(
    gram: torch.Tensor,
    values: torch.Tensor,
    idx: list[int],
    solver: Any,
    normalizer: Any,
    warm_start: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, Any]:
    """λ = argmin_{λ ∈ Δ} λᵀ (D G_A D) λ on the active index set A = ``idx``, scattered back to K.

    The sub-Gram G_A is symmetrised and solved in float64; with a normaliser, D = diag(1/s) with
    s = ``normalizer.scales(diag(G_A), values[A])``. One active objective gets λ = 1 without a
    solve; none gives all-zero weights.

    Args:
        gram: ``[K, K]`` Gram of the per-objective gradients.
        values: ``[K]`` loss values (the normaliser's second input).
        idx: active objective indices, ascending.
        solver: object with ``solve_gram(gram, warm_start=...)``.
        normalizer: object with ``scales(sq_norms, losses)``, or ``None``.
        warm_start: ``[len(idx)]`` simplex point or ``None``.

    Returns:
        ``(weights [K], used_gram [K, K], min_norm_sq [], result or None)`` in ``gram``'s dtype;
        ``used_gram`` is the normalised G_A embedded in zeros.
    """
    k = gram.shape[0]
    dtype = gram.dtype
    weights = torch.zeros(k, dtype=dtype, device=gram.device)
    used = torch.zeros_like(gram)
    min_norm_sq = torch.zeros((), dtype=dtype, device=gram.device)
    result = None
    if not idx:
        return weights, used, min_norm_sq, result
    rows = torch.tensor(idx, device=gram.device)
    sub = gram[rows[:, None], rows[None, :]].to(torch.float64)
    # a float32 matmul V Vᵀ is not bitwise symmetric, and the solver checks symmetry
    sub = 0.5 * (sub + sub.T)
    if normalizer is not None:
        scales = normalizer.scales(torch.diagonal(sub), values[rows].to(sub))
        sub = normalize_gram(sub, scales.to(sub.dtype))
    if len(idx) == 1:
        lam = torch.ones(1, dtype=sub.dtype, device=sub.device)
        min_norm_sq = sub[0, 0].to(dtype)
    else:
        result = solver.solve_gram(sub, warm_start=warm_start)
        lam = result.weights
        min_norm_sq = result.min_norm_sq.to(dtype)
    weights[rows] = lam.to(dtype)
    used[rows[:, None], rows[None, :]] = sub.to(dtype)
    return weights, used, min_norm_sq, result
