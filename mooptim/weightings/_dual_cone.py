"""Projection onto the dual cone of the gradients, through their Gramian: the QP of UPGrad/DualProj.

For a Jacobian ``J`` (rows ``g_i``) with Gramian ``G = JJᵀ`` and weights ``u``, the projection of
``Jᵀu`` onto the dual cone ``{d : Jd ≥ 0}`` is ``Jᵀv`` with (Quinton & Rey 2024, "Jacobian Descent
for Multi-Objective Optimization", Proposition 1)

    ``v = argmin_{v ≥ u} vᵀGv``.

We solve it for ``H = G/tr(G) + reg_eps·I`` instead of G, exactly as TorchJD 0.18 does (see
:func:`~mooptim.weightings._dual_cone_certificate.regularized_gramian`): the normalisation leaves v
unchanged, the ridge makes H positive definite (so v is unique) and moves v by ``O(reg_eps)``.
Where TorchJD calls quadprog once per row in a Python loop, we solve all rows of all problems at
once, exactly: primal-dual active-set Newton iterations
(:mod:`~mooptim.weightings._dual_cone_newton`, a few batched solves), then Lawson-Hanson's active
set (:mod:`~mooptim.weightings._dual_cone_active_set`, which cannot cycle) on any row Newton left
unsettled; every answer is certified by its KKT residuals. One problem on the CPU runs in numpy
(torch's per-call overhead dominates such small arrays); anything else in torch on its device.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._dual_cone_active_set import default_max_iter, nonneg_qp
from mooptim.weightings._dual_cone_certificate import (
    ADD_TOL,
    kkt_residuals,
    last_max,
    regularized_gramian,
    row_units,
)
from mooptim.weightings._dual_cone_newton import NEWTON_ITERATIONS, newton_nonneg_qp

__all__ = ["DualConeProjection", "project_to_dual_cone"]


@dataclass(frozen=True)
class DualConeProjection:
    """The projections ``v`` of the rows ``u`` and their certificate (all float64).

    Attributes:
        weights: ``[B, R, K]`` ``v = argmin_{v ≥ u} vᵀHv`` per row.
        primal_residual, dual_residual, complementarity: ``[B, R]`` the KKT residuals of
            :func:`~mooptim.weightings._dual_cone_certificate.kkt_residuals` (on H).
        steps: ``[B, R]`` int64 active-set steps (one index added or dropped each).
        converged: ``[B, R]`` the active set's stopping test passed within ``max_iter``.
    """

    weights: Tensor
    primal_residual: Tensor
    dual_residual: Tensor
    complementarity: Tensor
    steps: Tensor
    converged: Tensor

    @property
    def kkt_residual(self) -> Tensor:
        """``[B, R]`` the largest of the three residuals."""
        return torch.maximum(
            torch.maximum(self.primal_residual, self.dual_residual), self.complementarity
        )


def _rows(xp: Any, h: Any, c: Any, add_tol: Any, mask: Any) -> tuple[Any, Any, Any]:
    """The rows of ``mask`` [B, R] as problems: ``([n, K, K], [n, 1, K], [n, 1, 1])``."""
    shape = (*c.shape, c.shape[-1])
    return xp.broadcast_to(h[:, None], shape)[mask], c[mask][:, None], add_tol[mask][:, None]


def _nonneg_qp(
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


def _project(
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
    x, steps, converged = _nonneg_qp(xp, h, c, add_tol, eye, max_iter, host)
    v = u + x
    return (v, *kkt_residuals(xp, h, u, v, units), steps, converged)


@functools.lru_cache(maxsize=64)
def _numpy_eye(k: int) -> np.ndarray:
    """A read-only ``[K, K]`` float64 identity, built once per K (the host path is that fast)."""
    eye = np.eye(k)
    eye.flags.writeable = False
    return eye


def _solve(
    gramian: Tensor, u: Tensor, eps: tuple[float, float], max_iter: int | None, on_host: bool | None
) -> tuple[Any, tuple[Any, ...]]:
    """``(xp, arrays of _project)``: numpy on the host, else torch on the input's device."""
    k = gramian.shape[-1]
    max_iter = default_max_iter(k) if max_iter is None else max_iter
    if gramian.device.type == "cpu" if on_host is None else on_host:
        arrays = (gramian.numpy(force=True), u.numpy(force=True), _numpy_eye(k))
        return np, _project(np, *arrays, eps, max_iter, True)
    eye = torch.eye(k, dtype=torch.float64, device=gramian.device)
    cpu = gramian.device.type == "cpu"
    return torch, _project(torch, gramian, u, eye, eps, max_iter, cpu)


def project_to_dual_cone(
    gramian: Tensor,
    u: Tensor,
    *,
    norm_eps: float = 1e-4,
    reg_eps: float = 1e-4,
    max_iter: int | None = None,
    on_host: bool | None = None,
) -> DualConeProjection:
    """``v = argmin_{v ≥ u} vᵀHv`` for every row of ``u``, ``H = G/tr(G) + reg_eps·I``.

    Args:
        gramian: ``[B, K, K]`` float64 symmetric PSD Gramians.
        u: ``[B, R, K]`` float64, R rows to project per problem.
        norm_eps: a Gramian with ``tr(G) < norm_eps`` is treated as zero (TorchJD's rule).
        reg_eps: ridge added to the normalised Gramian (TorchJD's default 1e-4).
        max_iter: cap on active-set steps per row (default ``50 + 10K``).
        on_host: solve with numpy on the CPU (default: when the input is on the CPU, where
            torch's per-call overhead dominates these small arrays); False forces torch.

    Returns:
        :class:`DualConeProjection` on the input's device.
    """
    _, out = _solve(gramian, u, (norm_eps, reg_eps), max_iter, on_host)
    v, primal, dual, complementarity, steps, converged = (
        torch.as_tensor(a).to(gramian.device) for a in out
    )
    return DualConeProjection(v, primal, dual, complementarity, steps.long(), converged)


def certified_projection(
    gramian: Tensor, u: Tensor, eps: tuple[float, float], tol: float
) -> tuple[Tensor, Any]:
    """``(v [B, R, K], failed)``: the projections, and None or ``(bad [B], residual [B, R])``.

    A problem fails when a row did not converge or has a KKT residual above ``tol`` (a NaN or Inf
    in v makes the residual NaN or Inf, which fails too). The check runs in the solver's array
    module (one host read), so the single-problem path converts only ``v`` back to torch.
    """
    xp, (v, primal, dual, complementarity, _, converged) = _solve(gramian, u, eps, None, None)
    residual = xp.maximum(xp.maximum(primal, dual), complementarity)
    failed = None
    if not (bool(converged.all()) and bool(residual.max() <= tol)):  # NaN <= tol is False
        ok = (converged & (residual <= tol)).all(-1)
        failed = (~ok, residual)
    return (torch.from_numpy(v) if xp is np else v), failed
