"""Wolfe's minimum-norm-point method: the algorithm and the constants its implementations share.

Problem: ``λ* = argmin_{λ ≥ 0, Σλ = 1} λᵀGλ`` for a PSD Gram ``G = J Jᵀ`` (the min-norm point of the
convex hull of the rows of J, MGDA). Algorithm: P. Wolfe, "Finding the nearest point in a polytope",
Math. Programming 11 (1976), an active-set method expressed through G only:

* keep a *corral* S (affinely independent objectives) and ``λ`` with ``λ_i > 0`` exactly on S;
* minor cycle: the affine minimizer ``α = argmin_{Σα=1, α_i=0 ∉ S} αᵀGα``, i.e.
  ``α ∝ (G_SS + 11ᵀ)⁻¹ 1``; if ``α_S > 0`` accept it, else move from λ towards α until the first
  coefficient hits 0 and drop it from S;
* major cycle (after an accepted α): ``j = argmin_i (Gλ)_i``; stop if ``λᵀGλ − (Gλ)_j ≤ tol``,
  else add j to S. The new point is affinely independent of S, so the system stays nonsingular.

Each step strictly decreases the objective and no corral repeats, so the method terminates after
finitely many steps with the exact optimum (up to rounding).

Three implementations, one per regime, follow the same steps, tolerances and stopping rules:

* :mod:`mooptim._wolfe_batched`: torch, batched in lockstep, on any device;
* :mod:`mooptim._wolfe_numpy`: numpy, one problem on the CPU (corral solves by LAPACK);
* :mod:`mooptim._wolfe_rows`: plain Python floats, one small problem on the CPU.

:mod:`mooptim._host` chooses between the last two (measured in ``benchmarks/solvers.py``).
"""

from __future__ import annotations

# Ridge added to (G_SS + 11ᵀ) (G normalised to max diag 1): keeps the solve finite if rounding makes
# a corral numerically affinely dependent; at 1e-13 it does not move a well-posed solution.
RIDGE = 1e-13
# K = 2: two vectors closer than this (relative, on ‖g_1 − g_2‖²) are treated as identical.
SAME_2 = 1e-12


def default_max_iter(k: int) -> int:
    """Default cap on Wolfe steps for K objectives: far more than needed in practice, it guards
    against rounding cycles."""
    return 50 + 10 * k
