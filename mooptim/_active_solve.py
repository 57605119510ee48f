"""The weighting of the active objectives, as a pure function: sub-Gram in, K weights out."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mooptim._result import MinNormResult
from mooptim.normalizers import normalize_gram
from mooptim.weightings import MGDAWeighting, Weighting

__all__ = ["solve_active", "warm_start"]


def warm_start(previous: Tensor | None, idx: list[int], like: Tensor) -> Tensor | None:
    """The previous λ restricted to the active objectives ``idx`` and renormalised.

    ``None`` without a previous λ of the same K; the uniform point when the previous step gave
    these objectives no weight (it carries no useful start).
    """
    if previous is None or previous.shape[0] != like.shape[0]:
        return None
    prev = previous[idx].to(device=like.device, dtype=torch.float64)
    total = prev.sum()
    uniform = torch.full_like(prev, 1.0 / len(idx))
    return torch.where(total > 0, prev / total.clamp_min(torch.finfo(prev.dtype).tiny), uniform)


def _weigh(
    weighting: Weighting, sub: Tensor, values: Tensor, warm: Tensor | None, source: torch.dtype
) -> tuple[Tensor, Tensor, MinNormResult | None]:
    """``(weights, wᵀ G w, MGDA's result or None)`` of the float64 active sub-Gram ``sub``.

    MGDA keeps its solver's interface, which the weighting call does not carry: the warm start
    in, the certificate out; a single objective gets weight 1 without a solve. The solver gets
    ``sub`` in ``source``, the dtype the Gram was computed in, because its symmetry/PSD check
    takes its tolerance from the input's dtype: the rounding of a float32 ``V Vᵀ`` makes a
    rank-deficient Gram (more objectives than dimensions) slightly indefinite, well inside
    float32's tolerance but not float64's (for a float64 Gram the cast is a no-op). Every other
    method is called as a :class:`Weighting` (with the loss values when it reads them).

    Raises:
        ValueError: the weighting returned a NaN or infinite weight.
    """
    if isinstance(weighting, MGDAWeighting):
        if sub.shape[0] == 1:
            return torch.ones(1, dtype=sub.dtype, device=sub.device), sub[0, 0], None
        result = weighting.solver.solve_gram(sub.to(source), warm_start=warm)
        return result.weights, result.min_norm_sq, result
    lam = weighting(sub, losses=values if weighting.needs_losses else None).to(sub)
    if not bool(torch.isfinite(lam).all()):  # nothing silently NaN: a broken method is named
        raise ValueError(
            f"the {weighting.name} weighting returned non-finite weights {lam.tolist()}"
        )
    return lam, lam @ sub @ lam, None


def solve_active(
    gram: Tensor,
    values: Tensor,
    idx: list[int],
    weighting: Weighting,
    normalizer: Any,
    previous: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor, MinNormResult | None]:
    """``w = weighting(D G_A D)`` on the active index set A = ``idx``, scattered back to K.

    The sub-Gram G_A is symmetrised and weighted in float64 (MGDA's solver gets it back in
    ``gram``'s dtype, whose tolerance its PSD check should use); with a normaliser, D = diag(1/s)
    with s = ``normalizer.scales(diag(G_A), values[A])``. A loss-based weighting receives
    ``values[A]``. MGDA is warm-started from ``previous`` restricted to A (:func:`warm_start`).
    No active objective gives all-zero weights without calling the weighting. A stateful method
    gets the sub-problem too: what its state (kept for the objectives of earlier calls) does
    with fewer objectives is the method's choice; if it refuses (``ValueError``), the error says
    which objectives were active.

    Args:
        gram: ``[K, K]`` Gram of the per-objective gradients.
        values: ``[K]`` loss values (the normaliser's and a loss-based weighting's input).
        idx: active objective indices, ascending.
        weighting: the :class:`~mooptim.weightings.Weighting` of the active objectives.
        normalizer: object with ``scales(sq_norms, losses)``, or ``None``.
        previous: ``[K]`` weights of the previous step, or ``None``.

    Returns:
        ``(weights [K], used_gram [K, K], wᵀ G_A w [], MGDA's result or None)`` in ``gram``'s
        dtype; ``used_gram`` is the normalised G_A embedded in zeros.
    """
    k = gram.shape[0]
    dtype = gram.dtype
    weights = torch.zeros(k, dtype=dtype, device=gram.device)
    used = torch.zeros_like(gram)
    if not idx:
        return weights, used, torch.zeros((), dtype=dtype, device=gram.device), None
    rows = torch.tensor(idx, device=gram.device)
    sub = gram[rows[:, None], rows[None, :]].to(torch.float64)
    # a float32 matmul V Vᵀ is not bitwise symmetric, and the solver checks symmetry
    sub = 0.5 * (sub + sub.T)
    active_values = values[rows].to(sub)
    if normalizer is not None:
        scales = normalizer.scales(torch.diagonal(sub), active_values)
        sub = normalize_gram(sub, scales.to(sub.dtype))
    warm = warm_start(previous, idx, gram) if len(idx) > 1 else None
    try:
        lam, min_norm_sq, result = _weigh(weighting, sub, active_values, warm, dtype)
    except ValueError as err:
        if len(idx) == k:
            raise
        raise ValueError(
            f"the {weighting.name} weighting failed on the {len(idx)} active objectives {idx} "
            f"of {k} (the others are absent or have a zero gradient this step): {err}"
        ) from err
    weights[rows] = lam.to(dtype)
    used[rows[:, None], rows[None, :]] = sub.to(dtype)
    return weights, used, min_norm_sq.to(dtype), result
