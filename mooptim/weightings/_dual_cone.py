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
unsettled; every answer is certified by its KKT residuals. Input on the CPU is solved with numpy
(torch's per-call overhead dominates these small arrays, for one problem above all), input on an
accelerator with torch on that device.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._dual_cone_active_set import default_max_iter
from mooptim.weightings._dual_cone_rows import project_rows

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


@functools.lru_cache(maxsize=64)
def _numpy_eye(k: int) -> np.ndarray:
    """A read-only ``[K, K]`` float64 identity, built once per K (the host path is that fast)."""
    eye = np.eye(k)
    eye.flags.writeable = False
    return eye


def _solve(
    gramian: Tensor, u: Tensor, eps: tuple[float, float], max_iter: int | None, on_host: bool | None
) -> tuple[Any, tuple[Any, ...]]:
    """``(xp, arrays of project_rows)``: numpy on the host, else torch on the input's device."""
    k = gramian.shape[-1]
    max_iter = default_max_iter(k) if max_iter is None else max_iter
    if gramian.device.type == "cpu" if on_host is None else on_host:
        arrays = (gramian.numpy(force=True), u.numpy(force=True), _numpy_eye(k))
        return np, project_rows(np, *arrays, eps, max_iter, True)
    eye = torch.eye(k, dtype=torch.float64, device=gramian.device)
    cpu = gramian.device.type == "cpu"
    return torch, project_rows(torch, gramian, u, eye, eps, max_iter, cpu)


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
