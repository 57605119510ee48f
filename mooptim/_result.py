"""The result object shared by every min-norm method."""

from __future__ import annotations

from dataclasses import dataclass

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
        kkt_residual: ``[...]`` scale-free optimality certificate: the larger of the stationarity
            violation ``max_i (λᵀGλ − (Gλ)_i)_+`` and the λ-weighted complementary slackness
            ``max_i λ_i |(Gλ)_i − λᵀGλ|``, divided by ``max_i G_ii``.
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
