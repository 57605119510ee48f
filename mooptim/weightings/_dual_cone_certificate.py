"""TorchJD's Gramian conditioning and the KKT certificate of the dual-cone projection.

Array-agnostic like :mod:`mooptim.weightings._dual_cone_active_set` (``xp`` is ``torch`` or
``numpy``), so the batched and the single-problem paths share one definition of each.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

# Stop adding free indices once every gradient entry is ≥ −ADD_TOL, in units of
# max_i H_ii · max_i |u_i| (the row's own scale). Rounding noise is ~1e-16 there; a missed
# constraint this small moves v by at most ADD_TOL / reg_eps ≈ 1e-9 (reg_eps = 1e-4).
ADD_TOL = 1e-13
# Floor on reg_eps: keeps every active-set system nonsingular when the caller asks for no ridge
# on a singular Gramian (duplicated gradients); it moves v by ~1e-13 / λ_min(H), nothing at the
# default reg_eps = 1e-4.
REG_FLOOR = 1e-13
SMALLEST_POSITIVE = 5e-324  # the smallest positive float64 (a subnormal)


def last_max(x: Any) -> Any:
    """Max over the last axis; numpy's ``ufunc.reduce`` skips ``np.amax``'s slow Python wrapper
    (it is a third of the host path's certificate)."""
    return x.amax(-1) if isinstance(x, Tensor) else np.maximum.reduce(x, -1)


def regularized_gramian(xp: Any, gramian: Any, eye: Any, norm_eps: float, reg_eps: float) -> Any:
    """``H = G / tr(G) + reg_eps·I``, and ``H = reg_eps·I`` where ``tr(G) < norm_eps``.

    TorchJD 0.18's ``regularize(normalize(G, norm_eps), reg_eps)`` (``torchjd/_linalg/_gramian.py``)
    replicated so that the projections match, with two differences that only matter off its
    defaults: a trace that is not positive (a zero Gram with ``norm_eps = 0``) also counts as
    negligible, where TorchJD divides by zero; and ``reg_eps`` is at least ``REG_FLOOR = 1e-13``,
    so that H is positive definite even for ``reg_eps = 0`` and duplicated gradients (where
    quadprog fails).

    Args:
        gramian: ``[B, K, K]`` float64.
        eye: ``[K, K]`` float64 identity on the same device.
    """
    trace = gramian.diagonal(0, -2, -1).sum(-1)[..., None, None]
    # TorchJD's `tr < norm_eps`, also true for a zero or NaN trace (the smallest subnormal is > 0)
    kept = trace >= max(norm_eps, SMALLEST_POSITIVE)
    # G / tr(G) like TorchJD (not G · (1/tr), which overflows for a subnormal trace)
    normalized = xp.where(kept, gramian / xp.where(kept, trace, 1.0), 0.0)
    return normalized + max(reg_eps, REG_FLOOR) * eye


def row_units(xp: Any, h: Any, u: Any) -> tuple[Any, Any]:
    """``(‖u‖_∞, max_i H_ii · ‖u‖_∞)`` per row, ``[B, R]``, 1 in place of a zero: the units of the
    weights and of the gradient ``Hv``."""
    weight_unit = last_max(abs(u))
    weight_unit = xp.where(weight_unit > 0, weight_unit, 1.0)
    scale = last_max(h.diagonal(0, -2, -1))[..., None]
    return weight_unit, xp.where(scale > 0, scale, 1.0) * weight_unit


def kkt_residuals(xp: Any, h: Any, u: Any, v: Any, units: tuple[Any, Any]) -> tuple[Any, Any, Any]:
    """Scale-free KKT residuals of ``v`` for ``min_{v ≥ u} vᵀHv``, each ``[B, R]``.

    With the gradient ``γ = Hv`` (half of it), ``v`` is optimal iff ``v ≥ u``, ``γ ≥ 0`` and
    ``γ_i (v_i − u_i) = 0`` (the problem is convex). The residuals measure each condition in the
    row's own units (:func:`row_units`), so they are invariant under ``u → cu`` and ``H → cH``:

    * primal feasibility ``max_i (u_i − v_i)_+ / ‖u‖_∞``;
    * dual feasibility ``max_i (−γ_i)_+ / (max_i H_ii ‖u‖_∞)``;
    * complementarity ``max_i |γ_i (v_i − u_i)| / (max_i H_ii ‖u‖_∞²)``.

    Args:
        h: ``[B, K, K]`` the (regularised) Gramian the projection was computed on.
        u, v: ``[B, R, K]`` the rows to project and their projections.
        units: :func:`row_units` of ``(h, u)``.
    """
    grad = v @ h
    weight_unit, grad_unit = units
    primal = last_max(u - v).clip(min=0) / weight_unit
    dual = last_max(-grad).clip(min=0) / grad_unit
    complementarity = last_max(abs(grad * (v - u))) / (grad_unit * weight_unit)
    return primal, dual, complementarity
