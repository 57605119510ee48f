"""CAGrad's dual problem as a one-dimensional root of exact min-norm problems (batched).

CAGrad's dual (Liu et al. 2021, eq. 4, on the trace-normalised Gramian ``G``) is

    ``min_{w ∈ Δ}  bᵀw + s·‖u(w)‖``,  ``b = G 1/K``,  ``s = c ‖g₀‖``,  ``‖u(w)‖ = √(wᵀGw)``,

with ``g₀`` the mean gradient (``‖g₀‖² = 1ᵀG1/K²``) and ``u(w) = Σ w_i g_i``. Writing
``s‖u‖ = min_{τ>0} s(‖u‖²/τ + τ)/2`` turns the inner problem, for fixed ``τ``, into

    ``min_{w ∈ Δ} ‖Σ w_i (g_i + β g₀)‖²``,  ``β = τ/s``,

a min-norm problem on the shifted Gramian ``G + β(b1ᵀ + 1bᵀ) + β²‖g₀‖² 11ᵀ`` (solved exactly by
:class:`mooptim.MinNormSolver`). Its value ``V(τ)`` is convex (a partial minimum of a jointly
convex function) with ``V'(τ) = s(1 − ‖u*(τ)‖²/τ²)/2``, so the optimal ``τ`` is the root of
``R(log τ) = log‖u*(τ)‖ − log τ`` (non-increasing). The root is bracketed by
``[‖u_MGDA‖, maxᵢ‖gᵢ‖]`` and found by the Illinois method (safeguarded regula falsi) in ``log τ``,
every problem of the batch at once, each step one warm-started exact min-norm solve. At the root
the min-norm KKT conditions are CAGrad's KKT conditions (multiplied by ``τ/s``).

The shifted points stay bounded: ``β‖g₀‖ = τ/c ≤ 1/c``, so precision is lost only for tiny ``c``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mooptim.solver import MinNormSolver

__all__ = ["CAGradDual", "solve_cagrad_dual"]

# Floor of the bracket relative to maxᵢ‖gᵢ‖: below it the exact solver's tolerance (1e-12 on
# ‖u‖², relative) no longer resolves ‖u‖, and a root below it is reported as u* = 0.
TAU_FLOOR = 1e-6


@dataclass(frozen=True)
class CAGradDual:
    """The dual minimiser for every problem of a batch.

    Attributes:
        w: ``[B, K]`` minimiser on the simplex.
        norm: ``[B]`` ``‖u(w)‖ = √(wᵀGw)``.
        gap: ``[B]`` Frank-Wolfe gap ``∇fᵀw − minᵢ ∇f_i ≥ f(w) − f*`` (units of the normalised G).
        iterations: ``[B]`` min-norm solves of the root search.
        converged: ``[B]`` the root search met its tolerance.
        at_zero: ``[B]`` the minimiser is ``u = 0`` (to the floor's precision).
    """

    w: Tensor
    norm: Tensor
    gap: Tensor
    iterations: Tensor
    converged: Tensor
    at_zero: Tensor


def _quad(gram: Tensor, w: Tensor) -> Tensor:
    return (w * (gram @ w.unsqueeze(-1)).squeeze(-1)).sum(-1).clamp_min(0)


class _ShiftedMinNorm:
    """``τ ↦ (w*(τ), ‖u(w*)‖)`` for the batch, warm-starting every solve at the last support.

    ``rows`` (bool ``[B]``) restricts a call to the problems still searching; the others keep
    their last solution (which the caller ignores).
    """

    def __init__(self, gram: Tensor, s: Tensor) -> None:
        self.gram, self.s = gram, s
        self.b = gram.mean(-1)
        self.g0_sq = self.b.mean(-1).clamp_min(0)
        self.solver = MinNormSolver(check_input=False)
        self.warm = torch.full_like(self.b, 1.0 / gram.shape[-1])  # replaced by MGDA's weights

    def __call__(self, tau: Tensor, rows: Tensor | None = None) -> tuple[Tensor, Tensor]:
        rows = torch.ones_like(tau, dtype=torch.bool) if rows is None else rows
        b, gram = self.b[rows], self.gram[rows]
        beta = (tau[rows] / self.s[rows]).view(-1, 1, 1)
        cross = b.unsqueeze(-1) + b.unsqueeze(-2)
        shifted = gram + beta * cross + beta**2 * self.g0_sq[rows].view(-1, 1, 1)
        self.warm = self.warm.index_put((rows,), self.solve(shifted, self.warm[rows]))
        return self.warm, _quad(self.gram, self.warm).sqrt()

    def solve(self, gram: Tensor, warm: Tensor | None = None) -> Tensor:
        if gram.shape[0] == 1:  # one problem: the solver's plain-float host path
            start = None if warm is None else warm[0]
            return self.solver.solve_gram(gram[0], start).weights.unsqueeze(0)
        return self.solver.solve_gram(gram, warm).weights


def _fw_gap(gram: Tensor, b: Tensor, s: Tensor, w: Tensor, norm: Tensor) -> Tensor:
    safe = torch.where(norm > 0, norm, 1.0)
    grad = b + (s / safe).unsqueeze(-1) * (gram @ w.unsqueeze(-1)).squeeze(-1)
    return ((grad * w).sum(-1) - grad.amin(-1)).clamp_min(0)


def _illinois(bracket: list[Tensor], t: Tensor, r: Tensor, side: Tensor, active: Tensor) -> Tensor:
    """Replace the end of ``bracket = [t_lo, r_lo, t_hi, r_hi]`` on ``t``'s side; new ``side``.

    Illinois' modification halves the kept end's ``R`` when the same end moves twice in a row,
    which makes regula falsi superlinear.
    """
    t_lo, r_lo, t_hi, r_hi = bracket
    low = r > 0
    r_hi = torch.where(active & low & (side > 0), 0.5 * r_hi, r_hi)
    r_lo = torch.where(active & ~low & (side < 0), 0.5 * r_lo, r_lo)
    move_lo, move_hi = active & low, active & ~low
    bracket[:] = [
        torch.where(move_lo, t, t_lo),
        torch.where(move_lo, r, r_lo),
        torch.where(move_hi, t, t_hi),
        torch.where(move_hi, r, r_hi),
    ]
    return torch.where(low, 1.0, -1.0)


def solve_cagrad_dual(
    gram: Tensor, s: Tensor, *, tol: float = 1e-13, max_iter: int = 100
) -> CAGradDual:
    """Minimise ``bᵀw + s‖u(w)‖`` over the simplex for ``gram [B, K, K]`` with ``s [B] > 0``.

    ``gram`` is the trace-normalised float64 Gramian. Where the root lies below the floor
    ``τ = 1e-6·maxᵢ‖gᵢ‖`` (0 in the convex hull and ``c ≥ 1``: the minimiser is ``u = 0``), the
    search stops there with ``at_zero`` set.
    """
    shifted = _ShiftedMinNorm(gram, s)
    tau_hi = gram.diagonal(0, -2, -1).amax(-1).sqrt()
    shifted.warm = shifted.solve(gram)  # MGDA: the first support, and ‖u_MGDA‖ ≤ τ*
    tau_lo = torch.maximum(_quad(gram, shifted.warm).sqrt(), TAU_FLOOR * tau_hi)
    w_lo, n_lo = shifted(tau_lo)
    w_hi, n_hi = shifted(tau_hi)
    bracket = [tau_lo.log(), n_lo.log() - tau_lo.log(), tau_hi.log(), n_hi.log() - tau_hi.log()]
    at_zero = bracket[1] < -tol
    at_lo, at_hi = at_zero | (bracket[1].abs() <= tol), bracket[3] >= -tol
    w_best = torch.where(at_lo.unsqueeze(-1), w_lo, w_hi)
    done = at_lo | at_hi
    iterations = torch.full_like(tau_lo, 3, dtype=torch.int64)
    side = torch.zeros_like(tau_lo)
    for _ in range(max_iter):
        if bool(done.all()):
            break
        t_lo, r_lo, t_hi, r_hi = bracket
        secant = (t_lo * r_hi - t_hi * r_lo) / (r_hi - r_lo)
        inside = torch.isfinite(secant) & (secant > t_lo) & (secant < t_hi)
        t = torch.where(inside, secant, 0.5 * (t_lo + t_hi))
        w, n = shifted(t.exp(), ~done)
        r = n.log() - t
        iterations = iterations + (~done).long()
        w_best = torch.where(done.unsqueeze(-1), w_best, w)
        side = _illinois(bracket, t, r, side, ~done)
        done = done | (r.abs() <= tol) | (bracket[2] - bracket[0] <= tol)
    norm = _quad(gram, w_best).sqrt()
    gap = _fw_gap(gram, shifted.b, s, w_best, norm)
    return CAGradDual(w_best, norm, gap, iterations, done, at_zero)
