"""Reference backend: the min-norm QP solved by cvxpy (Clarabel), one problem at a time.

Problem: ``min_{λ ≥ 0, Σλ = 1} ‖Lᵀλ‖²`` with ``G = L Lᵀ`` built from the eigendecomposition of G
with negative eigenvalues (rounding) clipped to 0, which keeps the problem DCP/PSD-safe. The problem
is compiled once per K (a DPP parameter holds L) and reused. Speed is not a goal: this backend
exists to validate the others. cvxpy is optional; it is imported on first use only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import Tensor

# mooptim is not on PyPI: the extra is installed from a checkout.
INSTALL_HINT = (
    "the 'cvxpy' method needs cvxpy: pip install cvxpy"
    '  (or, from a mooptim checkout: pip install -e ".[cvxpy]")'
)

# Clarabel tolerances tight enough for a ≤1e-9 relative objective agreement with the exact solver.
_CLARABEL_OPTIONS = {
    "tol_gap_abs": 1e-13,
    "tol_gap_rel": 1e-13,
    "tol_feas": 1e-13,
    "tol_ktratio": 1e-10,
    "max_iter": 200,
}


def import_cvxpy() -> Any:
    """Import cvxpy and return the module.

    Raises:
        ImportError: cvxpy is not installed; the message gives the install command.
    """
    try:
        import cvxpy
    except ImportError as exc:  # pragma: no cover - exercised with a monkeypatched import
        raise ImportError(INSTALL_HINT) from exc
    return cvxpy


@lru_cache(maxsize=64)
def _problem(k: int) -> tuple[Any, Any, Any]:
    cp = import_cvxpy()
    lam = cp.Variable(k)
    factor = cp.Parameter((k, k))
    prob = cp.Problem(cp.Minimize(cp.sum_squares(factor.T @ lam)), [lam >= 0, cp.sum(lam) == 1])
    return prob, lam, factor


def cvxpy_min_norm(gram: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Solve each problem of ``gram`` (``[B, K, K]`` float64, normalised) with cvxpy/Clarabel.

    Returns:
        ``(weights [B, K], iterations [B] int64, converged [B] bool)`` on gram's device.
        ``converged`` is False where the solver did not report ``optimal``; then the uniform
        point or cvxpy's inaccurate answer is returned (projected to the simplex by the caller).
    """
    cp = import_cvxpy()
    bsz, k = gram.shape[0], gram.shape[-1]
    prob, lam, factor = _problem(k)
    # cvxpy rejects a non-finite parameter: such a problem keeps the uniform point, unsolved.
    finite = torch.isfinite(gram.cpu()).flatten(1).all(-1)
    safe = torch.where(finite[:, None, None], gram.cpu(), torch.eye(k, dtype=gram.dtype))
    evals, evecs = torch.linalg.eigh(safe)
    factors = (evecs * evals.clamp_min(0).sqrt().unsqueeze(-2)).numpy()
    weights = np.full((bsz, k), 1.0 / k)
    iters = np.zeros(bsz, dtype=np.int64)
    ok = np.zeros(bsz, dtype=bool)
    for b in torch.nonzero(finite).flatten().tolist():
        factor.value = factors[b]
        try:
            prob.solve(solver=cp.CLARABEL, **_CLARABEL_OPTIONS)
        except cp.error.SolverError:
            continue
        if lam.value is not None:
            weights[b] = lam.value
        stats = prob.solver_stats
        iters[b] = stats.num_iters if stats is not None and stats.num_iters is not None else 0
        ok[b] = prob.status == cp.OPTIMAL
    dev = gram.device
    return (
        torch.as_tensor(weights, dtype=gram.dtype, device=dev),
        torch.as_tensor(iters, device=dev),
        torch.as_tensor(ok, device=dev),
    )
