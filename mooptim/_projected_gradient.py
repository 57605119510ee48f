"""Projected gradient for the min-norm problem, with simplex projection and exact line search.

Problem: ``min_{λ∈Δ} λᵀGλ``. Step: ``d = P_Δ(λ − η∇f(λ)) − λ`` with ``∇f = 2Gλ`` and
``η = 1 / (2 max_i G_ii)``; then the exact line search along the feasible segment
``λ + τd, τ∈[0,1]``: ``τ = clip(−λᵀGd / dᵀGd, 0, 1)``. This is the projected-gradient alternative to
Frank-Wolfe mentioned by Sener & Koltun (2018, Sec. 3.1). ``d`` is a descent direction for any
``η > 0`` (``⟨∇f, d⟩ ≤ −‖d‖²/η``), so the line search makes the objective monotone.

``P_Δ`` is the sort-based Euclidean projection onto the simplex (Duchi et al., ICML 2008, Fig. 1).
"""

from __future__ import annotations

import torch
from torch import Tensor

from mooptim._certificate import kkt_certificate, uniform_or_warm


def project_simplex(v: Tensor) -> Tensor:
    """Euclidean projection of each row of ``v`` (``[..., K]``) onto the probability simplex.

    ``P(v) = max(v − θ, 0)`` with ``θ = (Σ_{i≤ρ} u_i − 1)/ρ``, u sorted decreasingly and
    ``ρ = max{j : u_j − (Σ_{i≤j} u_i − 1)/j > 0}`` (Duchi et al. 2008).
    """
    k = v.shape[-1]
    u, _ = torch.sort(v, dim=-1, descending=True)
    css = u.cumsum(-1) - 1
    ind = torch.arange(1, k + 1, dtype=v.dtype, device=v.device)
    cond = (u - css / ind) > 0
    rho = cond.to(torch.int64).cumsum(-1).amax(-1, keepdim=True).clamp_min(1)
    theta = css.gather(-1, rho - 1) / rho.to(v.dtype)
    return (v - theta).clamp_min(0)


def projected_gradient_min_norm(
    gram: Tensor,
    warm_start: Tensor | None = None,
    *,
    tol: float = 1e-8,
    max_iter: int = 1000,
    check_every: int = 16,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run batched projected gradient with exact line search.

    Args:
        gram: ``[B, K, K]`` float64 PSD, normalised to ``max_i G_ii = 1``.
        warm_start: ``[B, K]`` starting simplex points (default uniform).
        tol: stop a problem once its KKT residual is ``≤ tol``.
        max_iter: hard cap on steps per problem.
        check_every: steps between host syncs that test whether every problem has stopped.

    Returns:
        ``(weights [B, K], iterations [B] int64, converged [B] bool)``.
    """
    bsz = gram.shape[0]
    lam = uniform_or_warm(gram, warm_start)
    eta = 0.5 / gram.diagonal(dim1=-2, dim2=-1).amax(-1).clamp_min(1e-300)
    iters = torch.zeros(bsz, dtype=torch.int64, device=gram.device)
    _, _, res = kkt_certificate(gram, lam)
    done = res <= tol
    for step in range(max_iter):
        w = (gram @ lam.unsqueeze(-1)).squeeze(-1)
        d = project_simplex(lam - (2 * eta).unsqueeze(-1) * w) - lam
        gd = (gram @ d.unsqueeze(-1)).squeeze(-1)
        num = -(lam * gd).sum(-1)
        den = (d * gd).sum(-1)
        tau = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 1.0).clamp(0, 1)
        tau = torch.where(done | (num <= 0), 0.0, tau)
        lam = (lam + tau.unsqueeze(-1) * d).clamp_min(0)
        lam = lam / lam.sum(-1, keepdim=True)
        iters += (~done).to(torch.int64)
        if (step + 1) % check_every == 0 or step + 1 == max_iter:
            _, _, res = kkt_certificate(gram, lam)
            done = done | (res <= tol)
            if bool(done.all()):
                break
    return lam, iters, done
