"""The dual-cone QP on every row: conditioning, Newton, the active-set fallback, certificate.

Array-agnostic (``xp`` is ``torch`` or ``numpy``); :mod:`mooptim.weightings._dual_cone` chooses
the array module and converts.
"""

from __future__ import annotations

from typing import Any

from mooptim.weightings._dual_cone_active_set import nonneg_qp
from mooptim.weightings._dual_cone_certificate import (
    ADD_TOL,
    kkt_residuals,
    last_max,
    regularized_gramian,
    row_units,
)
from mooptim.weightings._dual_cone_newton import NEWTON_ITERATIONS, newton_nonneg_qp

__all__ = ["project_rows", "solve_rows"]


def _rows(xp: Any, h: Any, c: Any, add_tol: Any, mask: Any) -> tuple[Any, Any, Any]:
    """The rows of ``mask`` [B, R] as problems: ``([n, K, K], [n, 1, K], [n, 1, 1])``."""
    shape = (*c.shape, c.shape[-1])
    return xp.broadcast_to(h[:, None], shape)[mask], c[mask][:, None], add_tol[mask][:, None]


def solve_rows(
    xp: Any, h: Any, c: Any, add_tol: Any, eye: Any, max_iter: int, host: bool
) -> tuple[Any, Any, Any]:
    """``(x, steps, converged)``: Newton on every row, the active set on those left unsettled.

    For a batch on the host the rows with no conflict at ``x = 0`` (``c ≥ −tol``: solved by
    ``x = 0``) are left out of the Newton iterations, which then run on the others only (for one
    problem the gather would cost more than it saves).
    """
    if host and c.shape[0] > 1:
        # A batch on the host: Newton only on the rows in conflict at x = 0 (the others: x = 0).
        x, steps = xp.zeros_like(c), xp.zeros_like(c[..., 0])
        rows = (c < -add_tol).any(-1)
        settled = ~rows
        x_rows, steps_rows, settled_rows = newton_nonneg_qp(
            xp, *_rows(xp, h, c, add_tol, rows), eye, iterations=NEWTON_ITERATIONS, host=True
        )
        x[rows], steps[rows], settled[rows] = x_rows[:, 0], steps_rows[:, 0], settled_rows[:, 0]
    else:
        x, steps, settled = newton_nonneg_qp(
            xp, h, c, add_tol, eye, iterations=NEWTON_ITERATIONS, host=host
        )
    left = ~settled
    if not bool(left.any()):
        return x, steps, settled
    x_left, steps_left, converged_left = nonneg_qp(
        xp,
        *_rows(xp, h, c, add_tol, left),
        eye,
        max_iter=max_iter,
        check_every=1 if host else 4,
        host=host,
    )
    x[left], steps[left], settled[left] = (
        x_left[:, 0],
        steps[left] + steps_left[:, 0],
        converged_left[:, 0],
    )
    return x, steps, settled


def project_rows(
    xp: Any,
    gramian: Any,
    u: Any,
    eye: Any,
    eps: tuple[float, float],
    max_iter: int,
    host: bool,
) -> tuple[Any, ...]:
    """``(v, primal, dual, complementarity, steps, converged)`` as ``xp`` arrays."""
    norm_eps, reg_eps = eps
    h = regularized_gramian(xp, gramian, eye, norm_eps, reg_eps)
    units = row_units(xp, h, u)
    c, add_tol = u @ h, ADD_TOL * units[1][..., None]
    if host and not bool((c < -add_tol).any()):
        # No objective in conflict: v = u solves every row, and its residuals are known (the
        # common case of a single problem, where skipping the generic path is a third of it).
        zero = xp.zeros_like(units[0])
        return u + 0.0, zero, last_max(-c).clip(min=0) / units[1], zero, zero, zero == 0
    x, steps, converged = solve_rows(xp, h, c, add_tol, eye, max_iter, host)
    v = u + x
    return (v, *kkt_residuals(xp, h, u, v, units), steps, converged)
