"""Wolfe's min-norm-point method (see :mod:`mooptim._wolfe`), torch, batched in lockstep.

All problems of a batch iterate together; finished problems are frozen by masks (accelerators) or
dropped from the work set (CPU). The K = 2 case has a closed form.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mooptim._wolfe import RIDGE, SAME_2, default_max_iter


def min_norm_2(gram: Tensor) -> Tensor:
    """Closed form for K = 2: ``λ_1 = clip((G_22 − G_12) / (G_11 + G_22 − 2G_12), 0, 1)``.

    When the two vectors coincide up to rounding (denominator ``≤ 1e-12 (G_11 + G_22)``, i.e.
    ``‖g_1 − g_2‖ ≤ 1e-6 ‖g‖``) every λ is optimal up to ``1e-12 s``; we return the vertex with the
    smaller diagonal, or (1/2, 1/2) on a tie, so the answer is permutation and scale equivariant.

    Args:
        gram: ``[B, 2, 2]`` float64.

    Returns:
        ``[B, 2]`` weights.
    """
    a, b, c = gram[:, 0, 0], gram[:, 1, 1], gram[:, 0, 1]
    den = a + b - 2 * c
    distinct = den > SAME_2 * (a + b)
    lam0 = ((b - c) / torch.where(distinct, den, torch.ones_like(den))).clamp(0, 1)
    tie = torch.where(a < b, 1.0, torch.where(a > b, 0.0, 0.5)).to(gram.dtype)
    lam0 = torch.where(distinct, lam0, tie)
    return torch.stack([lam0, 1 - lam0], dim=-1)


def _affine_minimizer(gram_plus_one: Tensor, support: Tensor) -> Tensor:
    """``α ∝ (G_SS + 11ᵀ)⁻¹ 1_S`` normalised to ``Σα = 1``, zero off the support. ``[B, K]``.

    Takes ``G + 1`` (precomputed once); rows/columns off the support become identity rows.
    """
    s = support.to(gram_plus_one.dtype)
    mat = gram_plus_one * (s.unsqueeze(-1) * s.unsqueeze(-2))
    mat.diagonal(dim1=-2, dim2=-1).add_(1 - s + RIDGE)
    alpha = torch.linalg.solve(mat, s)
    return alpha / alpha.sum(-1, keepdim=True)


def _wolfe_step(
    gram: Tensor,
    gp1: Tensor,
    lam: Tensor,
    sup: Tensor,
    last: Tensor,
    tol: float,
    alpha: Tensor | None = None,
    host_checks: bool = False,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One minor/major step for every problem given: ``(lam, support, last_added, finished)``.

    ``alpha``: the affine minimizer when already known (a single vertex is its own).
    ``host_checks``: allowed to sync with the host (CPU), to skip the minor-cycle arithmetic when
    no problem needs it (the common case).
    """
    if alpha is None:
        alpha = _affine_minimizer(gp1, sup)
    interior = ((alpha > 0) | ~sup).all(-1, keepdim=True)

    # Major cycle where the affine minimizer is inside the simplex: accept it, test, add j.
    lam_int = torch.where(sup, alpha, 0.0).clamp_min_(0)
    w = (gram @ lam_int.unsqueeze(-1)).squeeze(-1)
    f = (lam_int * w).sum(-1, keepdim=True)
    gap, j = (f - w).max(-1, keepdim=True)
    optimal = (gap <= tol) | sup.gather(-1, j)
    add = torch.zeros_like(sup).scatter_(-1, j, True) & ~optimal
    if host_checks and bool(interior.all()):
        return lam_int, sup | add, torch.where(optimal, last, j), optimal.squeeze(-1)

    # Minor cycle: move towards α until the first coefficient reaches 0, drop it.
    blocking = sup & (alpha <= 0)
    ratio = torch.where(blocking, lam / (lam - alpha).clamp_min(1e-300), torch.inf)
    theta, drop = ratio.min(-1, keepdim=True)
    theta = theta.clamp(0, 1)
    lam_bnd = torch.lerp(lam, alpha, theta).clamp_min_(0).scatter_(-1, drop, 0.0)
    lam_bnd = torch.where(sup, lam_bnd, 0.0)
    # Rounding can make a just-added objective leave at once: a fixed point, stop there.
    stalled = ~interior & (theta <= 0) & (drop == last)

    new_lam = torch.where(interior, lam_int, lam_bnd)
    new_sup = torch.where(interior, sup | add, sup & (lam_bnd > 0))
    new_last = torch.where(interior & ~optimal, j, last)
    finished = ((interior & optimal) | stalled).squeeze(-1)
    return new_lam, new_sup, new_last, finished


def wolfe_min_norm(
    gram: Tensor,
    warm_start: Tensor | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int | None = None,
    compact: bool | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Solve ``min_{λ∈Δ} λᵀGλ`` exactly for a batch of normalised Grams.

    Args:
        gram: ``[B, K, K]`` float64 symmetric PSD, scaled so that ``max_i G_ii = 1``.
        warm_start: ``[B, K]`` float64 simplex points; their support is the initial corral (it is
            repaired by minor cycles if it is not affinely independent). Default: the vertex with
            the smallest ``G_ii``.
        tol: stop when ``λᵀGλ − min_i (Gλ)_i ≤ tol`` (Wolfe's test, in units of ``max_i G_ii``).
        max_iter: cap on Wolfe steps (minor or major cycles) per problem (default
            ``50 + 10·K``; far more than needed in practice, it guards against rounding cycles).
        compact: drop finished problems from the work set (default: on CPU only, where the host
            sync it needs is free; accelerators test for completion every 4 steps instead).

    Returns:
        ``(weights [B, K], iterations [B] int64, converged [B] bool)``.
    """
    k = gram.shape[-1]
    max_iter = default_max_iter(k) if max_iter is None else max_iter
    if warm_start is None:
        # min(-1).indices: the first minimum like argmin, but fast on the strided diagonal.
        first = gram.diagonal(dim1=-2, dim2=-1).min(-1).indices
        lam = torch.nn.functional.one_hot(first, k)
        lam = lam.to(gram.dtype)
    else:
        lam = warm_start.clone()
    compact = gram.device.type == "cpu" if compact is None else compact
    run = _run_compacting if compact else _run_masked
    return run(gram, lam, tol, max_iter, warm_start is None)


def _run_compacting(
    gram: Tensor, lam: Tensor, tol: float, max_iter: int, vertex_start: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """Wolfe loop that drops every finished problem from the work set after each step.

    Needs one host sync per step (free on CPU); in exchange no step computes for finished
    problems and the steps skip the minor-cycle arithmetic when no problem needs it.
    """
    bsz, dev = gram.shape[0], gram.device
    iters = torch.zeros(bsz, dtype=torch.int64, device=dev)
    done = torch.zeros(bsz, dtype=torch.bool, device=dev)
    rows = torch.arange(bsz, device=dev)
    g, gp1, w_lam = gram, gram + 1, lam
    w_sup = lam > 0
    w_last = torch.full((bsz, 1), -1, dtype=torch.int64, device=dev)
    for step in range(max_iter):
        # From the default start (one vertex) the first affine minimizer is that vertex.
        known = w_lam if step == 0 and vertex_start else None
        w_lam, w_sup, w_last, fin = _wolfe_step(g, gp1, w_lam, w_sup, w_last, tol, known, True)
        iters[rows] += 1
        fin_idx = fin.nonzero().squeeze(-1)
        n_fin = len(fin_idx)
        if n_fin == 0:
            continue
        lam.index_copy_(0, rows[fin_idx], w_lam[fin_idx])
        done[rows[fin_idx]] = True
        if n_fin == len(rows):
            return lam, iters, done
        # index_select with one nonzero: 3× cheaper than repeated boolean-mask indexing.
        keep = (~fin).nonzero().squeeze(-1)
        rows, g, gp1 = rows[keep], g.index_select(0, keep), gp1.index_select(0, keep)
        w_lam, w_sup, w_last = w_lam[keep], w_sup[keep], w_last[keep]
    lam[rows] = w_lam
    return lam, iters, done


def _run_masked(
    gram: Tensor, lam: Tensor, tol: float, max_iter: int, vertex_start: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """Lockstep Wolfe loop for accelerators: finished problems are frozen by masks.

    The host is asked whether all are done only every 4 steps (one sync per 4 steps).
    """
    bsz, dev = gram.shape[0], gram.device
    iters = torch.zeros(bsz, dtype=torch.int64, device=dev)
    gp1 = gram + 1
    sup = lam > 0
    last = torch.full((bsz, 1), -1, dtype=torch.int64, device=dev)
    done = torch.zeros(bsz, dtype=torch.bool, device=dev)
    for step in range(max_iter):
        known = lam if step == 0 and vertex_start else None
        n_lam, n_sup, n_last, fin = _wolfe_step(gram, gp1, lam, sup, last, tol, known)
        act = ~done
        lam = torch.where(act.unsqueeze(-1), n_lam, lam)
        sup = torch.where(act.unsqueeze(-1), n_sup, sup)
        last = torch.where(act.unsqueeze(-1), n_last, last)
        iters += act
        done = done | fin
        if (step + 1) % 4 == 0 and bool(done.all()):
            break
    return lam, iters, done
