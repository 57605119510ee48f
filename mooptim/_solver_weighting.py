"""MGDA through a caller's min-norm solver object: the ``solver=`` argument of the MGDA entry
points (:class:`mooptim.MinNormWeighting`, :func:`mooptim.min_norm_step`)."""

from __future__ import annotations

from typing import Any

from mooptim._backends import BACKENDS
from mooptim.solver import MinNormSolver
from mooptim.weightings import MGDAWeighting

__all__ = ["SolverMGDAWeighting", "solver_weighting"]


class SolverMGDAWeighting(MGDAWeighting):
    """:class:`~mooptim.weightings.MGDAWeighting` whose solve is ``solver.solve_gram``.

    ``solver`` is kept as given (the same object, with all its options), so the step calls it
    exactly as :class:`mooptim.MinNormWeighting` always did. Its :meth:`config` is MGDA's
    (``method``, ``tol`` — ``None`` for the method's default — and ``max_iter``) for a
    :class:`~mooptim.MinNormSolver`, so its state dicts load into
    ``ObjectiveWeighting(weighting="mgda")``; for another solver object it names the solver's
    type (``weighting_from_name`` cannot rebuild that one).

    Args:
        solver: an object with ``solve_gram(gram, warm_start=...)`` returning ``.weights`` and
            ``.min_norm_sq`` (a :class:`~mooptim.MinNormSolver`, a wrapper around one...).
    """

    def __init__(self, solver: Any) -> None:
        super().__init__()
        self.solver = solver

    def hyperparameters(self) -> dict[str, Any]:
        solver = self.solver
        if not isinstance(solver, MinNormSolver):
            return {"solver": type(solver).__name__}
        default = solver.tol == BACKENDS[solver.method].default_tol
        return {
            "method": solver.method,
            "tol": None if default else solver.tol,
            "max_iter": solver.max_iter,
        }


def solver_weighting(solver: Any) -> MGDAWeighting:
    """The MGDA weighting of ``solver`` (``None``: the default :class:`~mooptim.MinNormSolver`)."""
    return MGDAWeighting() if solver is None else SolverMGDAWeighting(solver)
