"""FairGrad: fair resource allocation in multi-task learning (Ban & Ji 2024, arXiv:2402.15638).

α-fair allocation of the update among the objectives gives (the paper's eq. 4) the ``w > 0`` with

    ``G w = w^(−1/α)``  (element-wise),

the minimiser of the strictly convex ``½wᵀGw − Σᵢ h(wᵢ)``, ``h' = w^(−1/α)``. ``α = 1`` is
Nash-MTL's ``G w = 1/w``; as ``α → 0`` the weights tend to equal ones (TorchJD returns ``1/K`` at
``α = 0``, as we do); large ``α`` approaches max-min fairness. We solve it exactly (backward
error of ``wᵢ^(1/α)(Gw)ᵢ = 1`` below ``tol``) by damped Newton, batched on the input's device
(:mod:`mooptim.weightings._power_equation`).

Differs from TorchJD 0.18's ``FairGradWeighting``, which calls ``scipy.optimize.least_squares``
(bounds ``w ≥ 0``, start ``1/K``, default tolerances, at most ``max_iters`` evaluations) on the
residual ``Gw − w^(−1/α)``: where it converges the two agree to ~1e-10 relative (measured);
for gradients at scale ≲ 1e-4 least-squares stops near its start (its tolerances are absolute
in ``w`` while the solution grows like ``scale^(−2/(1+1/α))``), and near Pareto-stationary
gradients it returns an unconverged point. There is no positive solution when 0 is in the convex
hull of the gradients; then :func:`fairgrad_solution` reports ``converged = False`` and the
weighting raises ``ValueError`` naming the problem.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._base import Weighting
from mooptim.weightings._iterative import (
    PARETO_STATIONARY_HINT,
    check_converged,
    check_non_negative,
    check_positive,
    check_positive_int,
)
from mooptim.weightings._power_equation import PowerEquationSolution, solve_power_equation

__all__ = ["FairGradWeighting", "fairgrad_solution", "fairgrad_weights"]


def fairgrad_solution(
    gramian: Tensor, alpha: float = 1.0, *, tol: float = 1e-12, max_iter: int = 100
) -> PowerEquationSolution:
    """The solution of ``G w = w^(−1/α)`` for Gramians ``[..., K, K]``, ``α > 0`` (float64)."""
    return solve_power_equation(gramian, 1.0 / alpha, tol=tol, max_iter=max_iter)


def fairgrad_weights(
    gramian: Tensor, alpha: float = 1.0, *, tol: float = 1e-12, max_iter: int = 100
) -> Tensor:
    """``[..., K]`` FairGrad weights of Gramians ``[..., K, K]`` (``1/K`` when ``α = 0``).

    Raises:
        ValueError: Newton did not converge (Pareto-stationary gradients), naming the problem.
    """
    if alpha == 0:
        k = gramian.shape[-1]
        return torch.full(gramian.shape[:-1], 1.0 / k, dtype=gramian.dtype, device=gramian.device)
    solution = fairgrad_solution(gramian, alpha, tol=tol, max_iter=max_iter)
    check_converged("fairgrad", solution.converged, solution.residual, PARETO_STATIONARY_HINT)
    return solution.weights.to(gramian.dtype)


class FairGradWeighting(Weighting):
    """FairGrad's α-fair weights (TorchJD: ``FairGradWeighting``; LibMTL's default ``α = 1``).

    Args:
        alpha: the fairness parameter ``α ≥ 0`` (0: the mean; 1: Nash-MTL's bargaining weights,
            unclipped; larger: closer to max-min fairness).
        tol: Newton's threshold on the backward error of ``wᵢ^(1/α)(Gw)ᵢ = 1``.
        max_iter: Newton step cap (TorchJD's ``max_iters`` caps least-squares evaluations).

    Raises:
        ValueError: a bad hyperparameter (naming it); at call time, Newton did not converge
            (Pareto-stationary gradients), naming the problem.
    """

    name = "fairgrad"

    def __init__(self, alpha: float = 1.0, tol: float = 1e-12, max_iter: int = 100) -> None:
        self.alpha = check_non_negative("alpha", alpha)
        self.tol = check_positive("tol", tol)
        self.max_iter = check_positive_int("max_iter", max_iter)

    def hyperparameters(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "tol": self.tol, "max_iter": self.max_iter}

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        return fairgrad_weights(gramian, self.alpha, tol=self.tol, max_iter=self.max_iter)

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor:
        # One CPU problem: solve_power_equation's numpy twin, without the batch's reshapes.
        return self._weights(torch.from_numpy(gramian)[None], None)[0]
