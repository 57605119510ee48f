"""CAGrad: Conflict-Averse Gradient descent (Liu et al. 2021, https://arxiv.org/abs/2110.14048).

CAGrad moves along the direction ``d`` in the ball ``‖d − g₀‖ ≤ c‖g₀‖`` around the mean gradient
``g₀`` that maximises the worst objective's improvement ``minᵢ gᵢᵀd``. By duality
(the paper's eq. 4, TorchJD's ``CAGradWeighting``), on the trace-normalised Gramian ``G``:

    ``w* = argmin_{w ∈ Δ} bᵀw + c‖g₀‖·√(wᵀGw)``,  ``b = G1/K``,  ``‖g₀‖² = 1ᵀG1/K²``,

    ``weights = 1/K + (c‖g₀‖ / √(w*ᵀGw*)) · w*``,  so that ``d = Jᵀ weights``.

Solved without cvxpy: :mod:`mooptim.weightings._cagrad_dual` reduces the dual to a root search
over exact min-norm problems (batched, on the input's device), certified by the Frank-Wolfe gap.

Like TorchJD 0.18, the weights are zero when the Gramian's trace is below ``norm_eps`` (TorchJD's
``normalize``: an absolute threshold, so gradients at scale ≲ 1e-2 get zero weights) or when
``√(w*ᵀGw*) < norm_eps`` (approximately Pareto-stationary); ``c = 0`` gives the mean ``1/K``.

Non-uniqueness: the point ``u* = Σ w*ᵢ gᵢ`` and the direction ``d`` are unique, but where the
gradients are affinely dependent (rank-deficient ``G``, e.g. K > d) several ``w*`` give the same
``u*`` and hence several weights give the same ``d``. We return the exact solver's basic solution
(an affinely independent support, at most rank + 1 non-zeros); TorchJD's interior-point Clarabel
returns a central one. The two then agree on ``d = Jᵀweights``, not on the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from mooptim.weightings._base import Weighting
from mooptim.weightings._cagrad_dual import solve_cagrad_dual
from mooptim.weightings._iterative import check_converged, check_non_negative

__all__ = ["CAGradSolution", "CAGradWeighting", "cagrad_solution", "cagrad_weights"]


@dataclass(frozen=True)
class CAGradSolution:
    """CAGrad's weights with their certificate, for Gramians ``[..., K, K]``.

    Attributes:
        weights: ``[..., K]`` the weights (``1/K + (s/‖u*‖) w*``, or 0, see the module).
        dual_weights: ``[..., K]`` the dual minimiser ``w*`` on the simplex.
        gap: ``[...]`` Frank-Wolfe gap of the dual (bounds its suboptimality; trace-normalised
            units; 0 where the weights are 0 or ``c = 0``).
        iterations: ``[...]`` exact min-norm solves.
        converged: ``[...]`` the root search met its tolerance.
    """

    weights: Tensor
    dual_weights: Tensor
    gap: Tensor
    iterations: Tensor
    converged: Tensor


def cagrad_solution(gramian: Tensor, c: float = 0.5, norm_eps: float = 1e-4) -> CAGradSolution:
    """CAGrad's weights of float Gramians ``[..., K, K]`` with the dual and its certificate."""
    k = gramian.shape[-1]
    flat = gramian.to(torch.float64).reshape(-1, k, k)
    trace = flat.diagonal(0, -2, -1).sum(-1)
    small = trace < norm_eps
    safe_trace = torch.where(small, 1.0, trace).view(-1, 1, 1)
    gram = torch.where(small.view(-1, 1, 1), 0.0, flat / safe_trace)
    b = gram.mean(-1)
    s = c * b.mean(-1).clamp_min(0).sqrt()
    smooth = s > 0
    vertex = torch.nn.functional.one_hot(b.argmin(-1), k).to(gram)
    w, gap = vertex, torch.zeros_like(s)
    iterations = torch.zeros_like(s, dtype=torch.int64)
    converged, at_zero = torch.ones_like(small), torch.zeros_like(small)
    if bool(smooth.any()):
        dual = solve_cagrad_dual(gram[smooth], s[smooth])
        w, gap = w.index_put((smooth,), dual.w), gap.index_put((smooth,), dual.gap)
        iterations = iterations.index_put((smooth,), dual.iterations)
        converged = converged.index_put((smooth,), dual.converged)
        at_zero = at_zero.index_put((smooth,), dual.at_zero)
    norm = (w * (gram @ w.unsqueeze(-1)).squeeze(-1)).sum(-1).clamp_min(0).sqrt()
    zero = small | at_zero | (norm < norm_eps)
    ratio = torch.where(zero | ~smooth, 0.0, s / torch.where(norm > 0, norm, 1.0))
    weights = torch.where(zero.unsqueeze(-1), 0.0, 1.0 / k + ratio.unsqueeze(-1) * w)
    batch = gramian.shape[:-2]
    return CAGradSolution(
        weights=weights.reshape(*batch, k),
        dual_weights=w.reshape(*batch, k),
        gap=torch.where(zero, 0.0, gap).reshape(batch),
        iterations=iterations.reshape(batch),
        converged=converged.reshape(batch),
    )


def cagrad_weights(gramian: Tensor, c: float = 0.5, norm_eps: float = 1e-4) -> Tensor:
    """``[..., K]`` CAGrad weights of Gramians ``[..., K, K]`` (see :func:`cagrad_solution`)."""
    return cagrad_solution(gramian, c, norm_eps).weights


class CAGradWeighting(Weighting):
    """CAGrad's weights (TorchJD: ``CAGradWeighting``; its docs and LibMTL use ``c = 0.5``).

    Args:
        c: radius of the ball around the mean gradient, relative to ``‖g₀‖`` (``c ≥ 0``; 0 gives
            the mean, ``c ≥ 1`` allows stopping at Pareto-stationary points).
        norm_eps: the absolute thresholds of TorchJD (see the module docstring), ``≥ 0``.

    Raises:
        ValueError: ``c`` or ``norm_eps`` negative or not finite (naming it); at call time, the
            root search did not converge (naming the problem), never a silent NaN.
    """

    name = "cagrad"

    def __init__(self, c: float = 0.5, norm_eps: float = 1e-4) -> None:
        self.c = check_non_negative("c", c)
        self.norm_eps = check_non_negative("norm_eps", norm_eps)

    def hyperparameters(self) -> dict[str, Any]:
        return {"c": self.c, "norm_eps": self.norm_eps}

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        solution = cagrad_solution(gramian, self.c, self.norm_eps)
        check_converged("cagrad", solution.converged, solution.gap)
        return solution.weights
