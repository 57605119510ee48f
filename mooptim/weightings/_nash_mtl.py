"""Nash-MTL: multi-task learning as a bargaining game (Navon et al. 2022, arXiv:2202.01017).

The Nash bargaining solution of the K objectives is the ``w > 0`` with

    ``G w = 1/w``  (element-wise: ``wᵢ (Gw)ᵢ = 1``),

the minimiser of the strictly convex ``½wᵀGw − Σᵢ log wᵢ``. We solve it exactly (backward error
of ``wᵢ(Gw)ᵢ = 1`` below ``tol``) by damped Newton, batched on the input's device
(:mod:`mooptim.weightings._power_equation`). The weights are then clipped like TorchJD's: if
``‖Jᵀw‖ = √(wᵀGw) > max_norm`` (``max_norm > 0``) they are scaled to ``‖Jᵀw‖ = max_norm``. At the
exact solution ``wᵀGw = K``, so with the default ``max_norm = 1`` the weights are ``w/√K``.

Differs from TorchJD 0.18's ``NashMTL`` (a stateful aggregator of the Jacobian ``J``, not of ``G``):
TorchJD runs the paper's sequential convex approximation with cvxpy/ECOS, starting from the
previous call's weights, for at most ``optim_niter = 20`` convex sub-problems, stopping early
when ``‖G/‖G‖_F·w − 1/w‖ < 1e-3`` (a test on the Frobenius-normalised Gramian while its
constraints use the raw one) or when the iterate moves less than ``1e-6`` (absolute), and keeping
the previous weights when ECOS fails. Where it converges its weights are this solution (to ~1e-7
relative, measured); for gradients at scale ≲ 1e-4 its absolute step test stops it at its start
(weights 1) and at scale ≳ 1e4 ECOS loses accuracy (residuals 1e-3 and worse).

The solution does not exist when 0 is in the convex hull of the gradients (Pareto-stationary:
some ``v ≥ 0, v ≠ 0`` has ``Jᵀv = 0``): then Newton diverges, :func:`nash_mtl_solution` reports
``converged = False`` and the weighting raises ``ValueError`` naming the problem.
"""

from __future__ import annotations

from typing import Any

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

__all__ = ["NashMTLWeighting", "clip_norm", "nash_mtl_solution", "nash_mtl_weights"]


def nash_mtl_solution(
    gramian: Tensor, *, warm_start: Tensor | None = None, tol: float = 1e-12, max_iter: int = 100
) -> PowerEquationSolution:
    """The bargaining solution ``G w = 1/w`` of Gramians ``[..., K, K]`` (unclipped, float64).

    ``warm_start`` (``[..., K]``, positive) only changes the number of Newton steps.
    """
    return solve_power_equation(gramian, 1.0, warm_start=warm_start, tol=tol, max_iter=max_iter)


def clip_norm(gramian: Tensor, weights: Tensor, max_norm: float) -> Tensor:
    """Scale ``weights [..., K]`` to ``√(wᵀGw) ≤ max_norm`` (unchanged when ``max_norm = 0``)."""
    if max_norm == 0:
        return weights
    norm = (weights * (gramian @ weights.unsqueeze(-1)).squeeze(-1)).sum(-1).clamp_min(0).sqrt()
    factor = (max_norm / norm).clamp(max=1.0)
    return weights * factor.unsqueeze(-1)


def nash_mtl_weights(gramian: Tensor, max_norm: float = 1.0) -> Tensor:
    """``[..., K]`` Nash-MTL weights of Gramians ``[..., K, K]`` (solved exactly, then clipped).

    Raises:
        ValueError: Newton did not converge (Pareto-stationary gradients), naming the problem.
    """
    solution = nash_mtl_solution(gramian)
    check_converged("nash_mtl", solution.converged, solution.residual, PARETO_STATIONARY_HINT)
    return clip_norm(gramian.double(), solution.weights, max_norm).to(gramian.dtype)


class NashMTLWeighting(Weighting):
    """Nash-MTL's weights, stateful like TorchJD's ``NashMTL``.

    Every ``update_weights_every`` calls (the first included) the bargaining solution is
    recomputed (Newton warm-started at the previous one); the calls in between reuse it. Either
    way it is then clipped with the current Gramian. The state (step counter and last solution,
    per problem of the batch) is in :meth:`state_dict`.

    Args:
        max_norm: clip ``‖Jᵀw‖`` to this (``0`` disables the clipping); TorchJD's default 1.
        update_weights_every: recompute the solution every this many calls (TorchJD's default 1).
        tol: Newton's threshold on the backward error of ``wᵢ(Gw)ᵢ = 1``. (TorchJD's
            ``optim_niter`` has no counterpart: the solve runs to ``tol``, capped by
            ``max_iter``.)
        max_iter: Newton step cap.

    Raises:
        ValueError: a bad hyperparameter (naming it); at call time, Newton did not converge
            (Pareto-stationary gradients, naming the problem) or a reused solution has another
            batch shape than the Gramian. A failed call leaves the state unchanged.
    """

    name = "nash_mtl"
    stateful = True

    def __init__(
        self,
        max_norm: float = 1.0,
        update_weights_every: int = 1,
        tol: float = 1e-12,
        max_iter: int = 100,
    ) -> None:
        self.max_norm = check_non_negative("max_norm", max_norm)
        self.update_weights_every = check_positive_int("update_weights_every", update_weights_every)
        self.tol = check_positive("tol", tol)
        self.max_iter = check_positive_int("max_iter", max_iter)
        self.reset()

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "max_norm": self.max_norm,
            "update_weights_every": self.update_weights_every,
            "tol": self.tol,
            "max_iter": self.max_iter,
        }

    def reset(self) -> None:
        self.step = 0
        self.solution: Tensor | None = None

    def state_dict(self) -> dict[str, Any]:
        solution = None if self.solution is None else self.solution.clone()
        return {"step": self.step, "solution": solution}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if set(state) != {"step", "solution"}:
            raise ValueError(f"nash_mtl state has keys step and solution, got {sorted(state)}")
        step, solution = state["step"], state["solution"]
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"nash_mtl state: step must be an integer ≥ 0, got {step!r}")
        if solution is not None and not (
            isinstance(solution, Tensor) and solution.dim() == 2 and bool((solution > 0).all())
        ):
            raise ValueError("nash_mtl state: solution must be None or a positive [B, K] tensor")
        self.step = step
        self.solution = None if solution is None else solution.to(torch.float64).clone()

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        previous = self.solution
        if previous is not None and previous.shape != gramian.shape[:-1]:
            previous = None
        else:
            previous = None if previous is None else previous.to(gramian.device)
        if self.step % self.update_weights_every == 0:
            found = nash_mtl_solution(
                gramian, warm_start=previous, tol=self.tol, max_iter=self.max_iter
            )
            check_converged("nash_mtl", found.converged, found.residual, PARETO_STATIONARY_HINT)
            previous = found.weights
        elif previous is None:
            shape = None if self.solution is None else tuple(self.solution.shape)
            raise ValueError(
                f"nash_mtl reuses the solution of its last update (step {self.step}), which is "
                f"for batch × K = {shape}, but got {tuple(gramian.shape[:-1])}; call reset()"
            )
        self.solution, self.step = previous, self.step + 1
        return clip_norm(gramian, previous, self.max_norm)
