"""The table of min-norm backends: the one place that maps a method name to its implementation.

Every backend solves ``min_{λ∈Δ} λᵀGλ`` for a batch ``[B, K, K]`` of float64 Grams normalised to
``max_i G_ii = 1`` (B ≥ 1, K ≥ 2) and returns ``(weights [B, K], iterations [B] int64,
converged [B] bool)``; :class:`mooptim.MinNormSolver` validates, normalises and certifies around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from mooptim._cvxpy import cvxpy_min_norm
from mooptim._frank_wolfe import frank_wolfe_min_norm
from mooptim._projected_gradient import projected_gradient_min_norm
from mooptim._wolfe_batched import min_norm_2, wolfe_min_norm

Triple = tuple[Tensor, Tensor, Tensor]
Solve = Callable[[Tensor, Tensor | None, float, int | None, int], Triple]
# Iteration cap of the iterative methods when the caller gives none.
ITERATIVE_MAX_ITER = 1000


@dataclass(frozen=True)
class Backend:
    """One method: ``solve(gram, warm_start, tol, max_iter, check_every)`` and its defaults.

    Attributes:
        solve: the batched solve described in the module docstring.
        default_tol: ``tol`` when the caller gives none.
        host: one CPU problem goes to :func:`mooptim._host.solve_on_host` (plain floats or
            numpy) instead of ``solve``.
    """

    solve: Solve
    default_tol: float
    host: bool = False


def _exact(gram: Tensor, warm: Tensor | None, tol: float, max_iter: int | None, _: int) -> Triple:
    if gram.shape[-1] == 2:
        ones = torch.ones(gram.shape[0], dtype=torch.int64, device=gram.device)
        return min_norm_2(gram), ones, torch.ones_like(ones, dtype=torch.bool)
    return wolfe_min_norm(gram, warm, tol=tol, max_iter=max_iter)


def _iterative(fn: Callable[..., Triple]) -> Solve:
    def solve(
        gram: Tensor, warm: Tensor | None, tol: float, max_iter: int | None, check_every: int
    ) -> Triple:
        cap = ITERATIVE_MAX_ITER if max_iter is None else max_iter
        return fn(gram, warm, tol=tol, max_iter=cap, check_every=check_every)

    return solve


def _cvxpy(gram: Tensor, warm: Tensor | None, tol: float, max_iter: int | None, _: int) -> Triple:
    # Interior-point methods do not warm start; Clarabel runs with fixed tight tolerances.
    return cvxpy_min_norm(gram)


BACKENDS: dict[str, Backend] = {
    "exact": Backend(_exact, 1e-12, host=True),
    "frank_wolfe": Backend(_iterative(frank_wolfe_min_norm), 1e-6),
    "projected_gradient": Backend(_iterative(projected_gradient_min_norm), 1e-6),
    "cvxpy": Backend(_cvxpy, 1e-8),
}
#: Names of the min-norm methods, in the order of :data:`BACKENDS`.
METHODS: tuple[str, ...] = tuple(BACKENDS)
