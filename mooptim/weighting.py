"""The min-norm weighting step (MGDA / MORE): :class:`ObjectiveWeighting` with MGDA.

:class:`MinNormWeighting` is :class:`mooptim.ObjectiveWeighting` whose weighting is MGDA's
min-norm λ = argmin_{λ ∈ Δ} ‖Σ λ_i g_i‖², solved by a :class:`mooptim.MinNormSolver` (Sener &
Koltun, 2018, "Multi-Task Learning as Multi-Objective Optimization"; on a parameter subspace as
MORE, Zeng et al., 2023, "On Diversified Preferences of Large Language Model Alignment"). It keeps
the ``solver=`` argument of the code written before the weighting family; new code writes
``ObjectiveWeighting(subspace, weighting="mgda")`` (the same step, bit for bit).
"""

from __future__ import annotations

from typing import Any

from mooptim._solver_weighting import solver_weighting
from mooptim._step import MinNormStep, min_norm_step
from mooptim.gradients import DisjointParts, GradientStrategy
from mooptim.objective_weighting import ObjectiveWeighting, WeightingOutput
from mooptim.subspace import Subspace

__all__ = ["MinNormStep", "MinNormWeighting", "WeightingOutput", "min_norm_step"]


class MinNormWeighting(ObjectiveWeighting):
    """:class:`~mooptim.ObjectiveWeighting` with MGDA's min-norm weights, solved by ``solver``.

    Every step, option and output is :class:`~mooptim.ObjectiveWeighting`'s with
    ``weighting=MGDAWeighting()``: the weights λ are on the simplex over the active objectives,
    warm-started from the previous step's λ, ``out.min_norm_sq`` is λᵀGλ and ``out.result`` the
    solver's result with its KKT certificate (``None`` with fewer than two active objectives).

    Args:
        subspace: parameters whose per-objective gradients define the Gram.
        solver: a ``MinNormSolver`` (default: ``MinNormSolver()``, the exact method). Anything with
            ``solve_gram(gram, warm_start=...)`` returning ``.weights`` and ``.min_norm_sq`` works.
        normalizer: as :class:`~mooptim.ObjectiveWeighting`.
        ema_alpha: as :class:`~mooptim.ObjectiveWeighting`.
        strategy: as :class:`~mooptim.ObjectiveWeighting`.
        scale_by_num_objectives: as :class:`~mooptim.ObjectiveWeighting`.
        num_objectives: as :class:`~mooptim.ObjectiveWeighting`.
        zero_grad_tol: as :class:`~mooptim.ObjectiveWeighting`.
        broadcast: as :class:`~mooptim.ObjectiveWeighting`.
        process_group: as :class:`~mooptim.ObjectiveWeighting`.

    Raises:
        TypeError: ``subspace`` is not a :class:`Subspace`.
        ValueError: as :class:`~mooptim.ObjectiveWeighting`.
    """

    def __init__(
        self,
        subspace: Subspace,
        solver: Any = None,
        normalizer: Any = None,
        ema_alpha: float | None = None,
        strategy: GradientStrategy | DisjointParts | None = None,
        scale_by_num_objectives: bool = False,
        *,
        num_objectives: int | None = None,
        zero_grad_tol: float = 0.0,
        broadcast: bool = False,
        process_group: Any = None,
    ) -> None:
        super().__init__(
            subspace,
            solver_weighting(solver),
            normalizer,
            ema_alpha,
            strategy,
            scale_by_num_objectives,
            num_objectives=num_objectives,
            zero_grad_tol=zero_grad_tol,
            broadcast=broadcast,
            process_group=process_group,
        )

    @property
    def solver(self) -> Any:
        """The min-norm solver of the steps (the ``solver`` argument, or the default one)."""
        return self.weighting.solver
