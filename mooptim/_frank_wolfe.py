"""Frank-Wolfe for the min-norm problem (MGDA), Sener & Koltun 2018, Algorithm 2, batched.

Problem: ``min_{λ∈Δ} λᵀGλ``. Each step moves from λ towards the vertex ``e_t``,
``t = argmin_i (Gλ)_i`` (the linear minimiser of the gradient ``2Gλ`` over the simplex), with the
exact line search of the two-point problem ``min_{γ∈[0,1]} ‖(1−γ)v + γ g_t‖²``:

    ``γ = clip((λᵀGλ − (Gλ)_t) / (λᵀGλ − 2(Gλ)_t + G_tt), 0, 1)``.

Differences from the reference code (github.com/isl-org/MultiObjectiveOptimization,
``min_norm_solvers.py``): that code initialises at the best pair of objectives, stops when
``‖Δλ‖₁ < 1e-5`` and runs on numpy; we start at the uniform point (as Algorithm 2 of the paper) or a
warm start, stop on the Frank-Wolfe duality gap (a certificate of suboptimality), enforce
``max_iter`` exactly and check convergence on the host only every ``check_every`` steps.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mooptim._certificate import kkt_certificate, uniform_or_warm


def frank_wolfe_min_norm(
    gram: Tensor,
    warm_start: Tensor | None = None,
    *,
    tol: float = 1e-6,
    max_iter: int = 1000,
    check_every: int = 16,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run batched Frank-Wolfe with exact line search.

    Args:
        gram: ``[B, K, K]`` float64 PSD, normalised to ``max_i G_ii = 1``.
        warm_start: ``[B, K]`` starting simplex points (default uniform).
        tol: stop a problem once its Frank-Wolfe duality gap ``2(λᵀGλ − min_i (Gλ)_i)`` is
            ``≤ tol`` (G is normalised, so this is relative to ``max_i G_ii``). The gap bounds
            the suboptimality of the objective.
        max_iter: hard cap on Frank-Wolfe steps per problem.
        check_every: steps between host syncs that test whether every problem has stopped.

    Returns:
        ``(weights [B, K], iterations [B] int64, converged [B] bool)``.
    """
    bsz, k = gram.shape[0], gram.shape[-1]
    lam = uniform_or_warm(gram, warm_start)
    diag = gram.diagonal(dim1=-2, dim2=-1)
    iters = torch.zeros(bsz, dtype=torch.int64, device=gram.device)
    _, gap, _ = kkt_certificate(gram, lam)
    done = gap <= tol
    w = (gram @ lam.unsqueeze(-1)).squeeze(-1)
    for step in range(max_iter):
        f = (lam * w).sum(-1)
        wt, t = w.min(-1)
        gtt = diag.gather(-1, t.unsqueeze(-1)).squeeze(-1)
        num = f - wt
        den = f - 2 * wt + gtt
        gamma = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 1.0).clamp(0, 1)
        gamma = torch.where(done, 0.0, gamma)
        col = gram.gather(-1, t.view(bsz, 1, 1).expand(bsz, k, 1)).squeeze(-1)
        lam = (1 - gamma).unsqueeze(-1) * lam
        lam = lam.scatter_add(-1, t.unsqueeze(-1), gamma.unsqueeze(-1))
        w = (1 - gamma).unsqueeze(-1) * w + gamma.unsqueeze(-1) * col
        iters += (~done).to(torch.int64)
        if (step + 1) % check_every == 0 or step + 1 == max_iter:
            # Recompute w exactly so the incremental update cannot drift, then test the gap.
            w = (gram @ lam.unsqueeze(-1)).squeeze(-1)
            _, gap, _ = kkt_certificate(gram, lam)
            done = done | (gap <= tol)
            if bool(done.all()):
                break
    return lam, iters, done
