"""Primal-dual active set (semismooth Newton) for ``min_{x ≥ 0} ½ xᵀHx + cᵀx``, batched.

Hintermüller, Ito & Kunisch, "The primal-dual active set strategy as a semismooth Newton method",
SIAM J. Optim. 13 (2003). Each iteration guesses the whole free set F at once and solves
``H_FF x_F = −c_F`` (``x = 0`` off F), then keeps in F the indices with ``x_i > 0`` and adds those
off F with gradient ``γ_i = (c + Hx)_i < −tol``. When F does not change the KKT conditions hold
(``x ≥ 0``, ``γ ≥ −tol``, ``x_i γ_i = 0``) and ``x`` is the exact minimiser, found by one linear
solve per iteration instead of one index per step. It converges in a few iterations on Gramians
(starting from ``F = {i : c_i < 0}``, the objectives in conflict at ``x = 0``) but may cycle on
some positive definite matrices; rows that have not settled after ``iterations`` are left to the
Lawson-Hanson active set (:mod:`~mooptim.weightings._dual_cone_active_set`), which cannot cycle.

Array-agnostic like the active set: ``xp`` is ``torch`` or ``numpy``.
"""

from __future__ import annotations

from typing import Any

# Newton iterations before the rows that have not settled go to the active set.
NEWTON_ITERATIONS = 8


def newton_nonneg_qp(
    xp: Any, h: Any, c: Any, add_tol: Any, eye: Any, *, iterations: int, host: bool
) -> tuple[Any, Any, Any]:
    """Solve ``min_{x ≥ 0} ½ xᵀHx + cᵀx`` for every row of ``c`` by primal-dual active sets.

    Args:
        xp: the array module, ``torch`` or ``numpy``.
        h: ``[B, K, K]`` float64 symmetric positive definite (shared by the rows of a problem).
        c: ``[B, R, K]`` float64 linear terms, one QP per row.
        add_tol: ``[B, R, 1]`` an index off F enters when ``γ_i < −add_tol``.
        eye: ``[K, K]`` float64 identity on the arrays' device.
        iterations: cap on Newton iterations (each one batched linear solve).
        host: reading a flag is free (CPU): stop as soon as every row has settled (elsewhere
            the host is asked every 4 iterations).

    Returns:
        ``(x [B, R, K], iterations [B, R], settled [B, R])``; ``x ≥ 0`` exactly.
    """
    free = c < -add_tol
    x = xp.zeros_like(c)
    count = xp.zeros_like(c[..., 0])
    settled = count > 0
    if host and not bool(free.any()):  # no objective in conflict at x = 0: x = 0 is optimal
        return x, count, ~settled
    for iteration in range(iterations):
        both = free[..., :, None] & free[..., None, :]
        system = xp.where(both, h[:, None], eye)
        x = xp.linalg.solve(system, xp.where(free, -c, 0.0)[..., None])[..., 0]
        grad = c + x @ h
        keep = xp.where(free, x > 0, grad < -add_tol)
        count = count + ~settled
        settled = (keep == free).all(-1)
        free = keep
        if (host or iteration % 4 == 3) and bool(settled.all()):
            break
    return xp.where(free, x, 0.0).clip(min=0), count, settled
