"""Lawson-Hanson active set for ``min_{x ≥ 0} ½ xᵀHx + cᵀx``, batched over problems and rows.

The dual-cone projection of UPGrad/DualProj, ``min_{v ≥ u} vᵀHv``, is this problem after
``v = u + x`` with ``c = Hu`` (see :mod:`mooptim.weightings._dual_cone`). The method is
Lawson & Hanson's NNLS active set ("Solving Least Squares Problems", 1974, ch. 23) written on the
Gram ``H`` instead of a factor of it:

* keep a free set F (``x_i > 0`` exactly on F) and ``z``, the minimiser on F
  (``H_FF z_F = −c_F``, ``z = 0`` off F), through ``M = H_FF⁻¹`` embedded in ``K × K`` zeros;
* if ``z_F > 0``: accept ``x = z``; the gradient is ``γ = c + Hx``; stop if ``γ_i ≥ −tol`` off F
  (the KKT conditions hold), else add ``j = argmin γ`` to F;
* else move from x towards z until the first coordinate reaches 0 and drop it from F.

Adding or dropping one index changes ``M`` by a rank-one term (bordering / Schur complement), so a
step costs ``O(K²)`` per row instead of a ``K × K`` solve, and ``z`` follows in ``O(K)``.

Array-agnostic: ``xp`` is ``torch`` (any device, batched in lockstep; finished rows are fixed
points of the step) or ``numpy`` (one problem on the CPU, where torch's per-call overhead
dominates). Only operations the two share are used.
"""

from __future__ import annotations

from typing import Any

# Floor on the Schur complement and on step denominators: keeps a step finite if rounding makes a
# free set numerically dependent (H is normalised to trace ≤ 1 + reg, so this is relative).
TINY = 1e-14


def default_max_iter(k: int) -> int:
    """Cap on active-set steps (adds and drops) per row: far more than needed, it guards against
    rounding cycles (Lawson-Hanson terminates in exact arithmetic)."""
    return 50 + 10 * k


def _move_and_drop(xp: Any, free: Any, x: Any, z: Any, drop: Any) -> tuple[Any, Any]:
    """Rows with ``z_F ≯ 0``: move x towards z to the first zero crossing; ``(x, j_drop)``."""
    blocking = free & (z <= 0)
    ratio = xp.where(blocking, x / (x - z).clip(min=TINY), xp.inf)
    alpha = xp.amin(ratio, -1).clip(min=0, max=1)[..., None]
    return xp.where(drop[..., None], x + alpha * (z - x), x), ratio.argmin(-1)


def _step(xp: Any, h: Any, c: Any, eye: Any, add_tol: Any, state: tuple, host: bool) -> tuple:
    """One add or drop for every row: ``(free, x, z, m) -> (free, x, z, m, finished)``.

    ``host``: may read flags on the host (CPU) to skip the drop arithmetic when no row drops.
    """
    free, x, z, m = state
    interior = (xp.where(free, z, 1.0) > 0).all(-1)
    drop = ~interior
    x = xp.where(interior[..., None], z, x)
    grad = c + x @ h  # H is symmetric: (Hx)ᵀ = xᵀH, one matmul per problem for all its rows
    candidate = ~free & (grad < -add_tol)
    add = interior & candidate.any(-1)
    j = xp.where(candidate, grad, xp.inf).argmin(-1)
    any_drop = not host or bool(drop.any())
    if any_drop:
        x, j_drop = _move_and_drop(xp, free, x, z, drop)
        j = xp.where(add, j, j_drop)
    elif not bool(add.any()):
        return free, x, z, m, interior

    e_j = eye[j]  # [..., K] one-hot of the index that changes
    h_j = e_j @ h  # row j of H
    y = (m @ xp.where(add[..., None], h_j, e_j)[..., None])[..., 0]
    schur = ((e_j - y) * h_j).sum(-1)  # H_jj − H_jF M H_Fj
    # add j: M += a aᵀ/s with a = M H_Fj − e_j;  drop j: M −= a aᵀ/M_jj with a = M e_j
    a = xp.where(add[..., None], y - e_j, y)
    sigma = xp.where(add, 1 / schur.clip(min=TINY), -1 / (y * e_j).sum(-1).clip(min=TINY))
    sigma = xp.where(add | drop, sigma, 0.0)
    m = m + (sigma[..., None] * a)[..., :, None] * a[..., None, :]
    z = z - (sigma * (a * c).sum(-1))[..., None] * a

    is_j = e_j > 0
    free = xp.where(add[..., None], free | is_j, free)
    if any_drop:
        free = xp.where(drop[..., None], free & ~is_j, free)
        x = xp.where(drop[..., None] & is_j, 0.0, x)
    z = xp.where(free, z, 0.0)
    return free, x, z, m, interior & ~add


def nonneg_qp(
    xp: Any,
    h: Any,
    c: Any,
    add_tol: Any,
    eye: Any,
    *,
    max_iter: int,
    check_every: int,
    host: bool,
) -> tuple[Any, Any, Any]:
    """Solve ``min_{x ≥ 0} ½ xᵀHx + cᵀx`` for every row of ``c``.

    Args:
        xp: the array module, ``torch`` or ``numpy``.
        h: ``[B, K, K]`` float64 symmetric positive definite (shared by the rows of a problem).
        c: ``[B, R, K]`` float64 linear terms, one QP per row.
        add_tol: ``[B, R, 1]`` stop when ``γ_i ≥ −add_tol`` off the free set.
        eye: ``[K, K]`` float64 identity on the arrays' device.
        max_iter: cap on steps per row.
        check_every: ask the host whether every row is done every this many steps.
        host: the arrays live on the CPU, where reading a flag is free: skip the arithmetic no
            row needs in a step (accelerators run every step in full, without syncs).

    Returns:
        ``(x [B, R, K], steps [B, R], converged [B, R])``; ``x ≥ 0`` exactly.
    """
    free = xp.zeros_like(c) > 0
    x = z = xp.zeros_like(c)
    m = xp.zeros_like(c[..., None] * c[..., None, :])
    steps = xp.zeros_like(c[..., 0])
    done = steps > 0
    for step in range(max_iter):
        free, x, z, m, finished = _step(xp, h, c, eye, add_tol, (free, x, z, m), host)
        steps = steps + ~done
        done = finished
        if (step + 1) % check_every == 0 and bool(done.all()):
            break
    return x, steps, done
