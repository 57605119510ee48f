"""Exact min-norm solver: Wolfe's minimum-norm-point algorithm, batched in lockstep.

Problem: ``λ* = argmin_{λ ≥ 0, Σλ = 1} λᵀGλ`` for a PSD Gram ``G = J Jᵀ`` (the min-norm point of the
convex hull of the rows of J, MGDA). Algorithm: P. Wolfe, "Finding the nearest point in a polytope",
Math. Programming 11 (1976), an active-set method expressed through G only:

* keep a *corral* S (affinely independent objectives) and ``λ`` with ``λ_i > 0`` exactly on S;
* minor cycle: the affine minimizer ``α = argmin_{Σα=1, α_i=0 ∉ S} αᵀGα``, i.e.
  ``α ∝ (G_SS + 11ᵀ)⁻¹ 1``; if ``α_S > 0`` accept it, else move from λ towards α until the first
  coefficient hits 0 and drop it from S;
* major cycle (after an accepted α): ``j = argmin_i (Gλ)_i``; stop if ``λᵀGλ − (Gλ)_j ≤ tol``,
  else add j to S. The new point is affinely independent of S, so the system stays nonsingular.

Each step strictly decreases the objective and no corral repeats, so the method terminates after
finitely many steps with the exact optimum (up to rounding). All problems of a batch iterate
together; finished problems are frozen by masks and dropped from the work set on CPU.
"""

from __future__ import annotations

import torch
from torch import Tensor

# Ridge added to (G_SS + 11ᵀ) (G normalised to max diag 1): keeps the solve finite if rounding makes
# a corral numerically affinely dependent; at 1e-13 it does not move a well-posed solution.
_RIDGE = 1e-13


def min_norm_2(gram: Tensor) -> Tensor:
    """Closed form for K = 2: ``λ_1 = clip((G_22 − G_12) / (G_11 + G_22 − 2G_12), 0, 1)``.

    When the two vectors coincide (denominator ``≤ 0``) every λ is optimal; we return the vertex
    with the smaller diagonal, or (1/2, 1/2) on a tie so that the answer is permutation equivariant.

    Args:
        gram: ``[B, 2, 2]`` float64.

    Returns:
        ``[B, 2]`` weights.
    """
    a, b, c = gram[:, 0, 0], gram[:, 1, 1], gram[:, 0, 1]
    den = a + b - 2 * c
    safe = torch.where(den > 0, den, torch.ones_like(den))
    lam0 = ((b - c) / safe).clamp(0, 1)
    tie = torch.where(a < b, 1.0, torch.where(a > b, 0.0, 0.5)).to(gram.dtype)
    lam0 = torch.where(den > 0, lam0, tie)
    return torch.stack([lam0, 1 - lam0], dim=-1)


def _affine_minimizer(gram: Tensor, support: Tensor) -> Tensor:
    """``α ∝ (G_SS + 11ᵀ)⁻¹ 1_S`` normalised to ``Σα = 1``, zero off the support. ``[B, K]``."""
    k = gram.shape[-1]
    s = support.to(gram.dtype)
    eye = torch.eye(k, dtype=gram.dtype, device=gram.device)
    mat = (gram + 1) * (s.unsqueeze(-1) * s.unsqueeze(-2)) + eye * (1 - s + _RIDGE).unsqueeze(-1)
    alpha = torch.linalg.solve(mat, s)
    return alpha / alpha.sum(-1, keepdim=True)


def wolfe_min_norm(
    gram: Tensor,
    warm_start: Tensor | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Solve ``min_{λ∈Δ} λᵀGλ`` exactly for a batch of normalised Grams.

    Args:
        gram: ``[B, K, K]`` float64 symmetric PSD, scaled so that ``max_i G_ii = 1``.
        warm_start: ``[B, K]`` float64 simplex points; their support is the initial corral (it is
            repaired by minor cycles if it is not affinely independent). Default: the vertex with
            the smallest ``G_ii``.
        tol: stop when ``λᵀGλ − min_i (Gλ)_i ≤ tol`` (Wolfe's test, in units of ``max_i G_ii``).
        max_iter: cap on support solves per problem (default ``50 + 10·K``; Wolfe's method
            needs far fewer in practice, the cap only guards against rounding cycles).

    Returns:
        ``(weights [B, K], iterations [B] int64, converged [B] bool)``.
    """
    bsz, k = gram.shape[0], gram.shape[-1]
    max_iter = 50 + 10 * k if max_iter is None else max_iter
    if warm_start is None:
        lam = torch.nn.functional.one_hot(gram.diagonal(dim1=-2, dim2=-1).argmin(-1), k)
        lam = lam.to(gram.dtype)
    else:
        lam = warm_start.clone()
    support = lam > 0
    iters = torch.zeros(bsz, dtype=torch.int64, device=gram.device)
    done = torch.zeros(bsz, dtype=torch.bool, device=gram.device)
    last_added = torch.full((bsz,), -1, dtype=torch.int64, device=gram.device)
    rows = torch.arange(bsz, device=gram.device)
    # On CPU a host sync is free: compact the batch to the unfinished problems every step.
    compact = gram.device.type == "cpu"
    check_every = 1 if compact else 4
    for step in range(max_iter):
        idx = torch.nonzero(~done).squeeze(-1) if compact else rows
        if compact and idx.numel() == 0:
            break
        g, lam_a, sup_a = gram[idx], lam[idx], support[idx]
        alpha = _affine_minimizer(g, sup_a)
        interior = ((alpha > 0) | ~sup_a).all(-1)

        # Major cycle for problems whose affine minimizer is inside the simplex.
        lam_int = torch.where(sup_a, alpha, 0.0).clamp_min(0)
        w = (g @ lam_int.unsqueeze(-1)).squeeze(-1)
        f = (lam_int * w).sum(-1)
        gap, j = (f.unsqueeze(-1) - w).max(-1)
        optimal = (gap <= tol) | sup_a.gather(-1, j.unsqueeze(-1)).squeeze(-1)
        sup_int = sup_a | (torch.nn.functional.one_hot(j, k).bool() & ~optimal.unsqueeze(-1))

        # Minor cycle: move towards α until the first coefficient leaves the simplex.
        blocking = sup_a & (alpha <= 0)
        ratio = torch.where(blocking, lam_a / (lam_a - alpha).clamp_min(1e-300), torch.inf)
        theta, drop = ratio.min(-1)
        theta = theta.clamp(0, 1)
        lam_bnd = (lam_a + theta.unsqueeze(-1) * (alpha - lam_a)).clamp_min(0)
        lam_bnd = lam_bnd.scatter(-1, drop.unsqueeze(-1), 0.0)
        lam_bnd = torch.where(sup_a, lam_bnd, 0.0)
        sup_bnd = sup_a & (lam_bnd > 0)
        # Rounding can make a just-added objective leave at once: that is a fixed point, stop.
        stalled = ~interior & (theta <= 0) & (drop == last_added[idx])

        new_lam = torch.where(interior.unsqueeze(-1), lam_int, lam_bnd)
        new_sup = torch.where(interior.unsqueeze(-1), sup_int, sup_bnd)
        new_done = (interior & optimal) | stalled
        act = ~done[idx]
        lam[idx] = torch.where(act.unsqueeze(-1), new_lam, lam_a)
        support[idx] = torch.where(act.unsqueeze(-1), new_sup, sup_a)
        last_added[idx] = torch.where(act & interior & ~optimal, j, last_added[idx])
        iters[idx] += act.to(torch.int64)
        done[idx] = done[idx] | (act & new_done)
        if not compact and (step + 1) % check_every == 0 and bool(done.all()):
            break
    return lam, iters, done
