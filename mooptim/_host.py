"""One min-norm problem on the CPU, exact method: plain floats up to ``SMALL_K`` objectives, numpy
above.

A single small problem is dispatch-bound, so the batched torch loop is the slowest choice for it;
which of the other two wins depends on K (``benchmarks/solvers.py --paths``, recorded in
``docs/benchmarks/solvers.md``): plain floats up to K = 12, numpy's LAPACK corral solves from
K = 16 on. Both validate, solve and certify with their own twins of the torch functions and build
the result fields with one ``torch.tensor`` call each: after other work has evicted the caches,
one code path is much cheaper than a slice, an unbind and a cast (measured).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mooptim._result import MinNormResult
from mooptim._rows import (
    Rows,
    dense_weights,
    diagonal_scale,
    is_finite_rows,
    kkt_certificate_rows,
    symmetrize_rows,
    validate_gram_rows,
)
from mooptim._wolfe_numpy import (
    kkt_certificate_numpy,
    project_to_simplex_numpy,
    validate_gram_numpy,
    wolfe_min_norm_numpy,
)
from mooptim._wolfe_rows import min_norm_2_rows, wolfe_min_norm_rows

# Up to this many objectives plain floats are cheaper than numpy, warm or cold (measured).
SMALL_K = 12

# (weights, (f, duality gap, KKT residual), iterations, converged)
Solution = tuple[list[float], tuple[float, float, float], int, bool]

# Grams whose scale ``s = max_i |G_ii|`` lies outside this range are divided by ``s`` before the
# checks and the solve: at subnormal scale (1e-310) the unnormalised corral system, ridge and
# tolerances (all multiples of ``s``) underflow, which gave a wrong λ marked converged or a crash.
# Inside it, G is used as given (scaling by a power of two is exact, see :mod:`._wolfe_rows`).
_SAFE_SCALE = (2.0**-500, 2.0**500)


def _needs_rescale(scale: float) -> bool:
    return scale > 0 and not _SAFE_SCALE[0] <= scale <= _SAFE_SCALE[1]


def _not_finite(k: int) -> Solution:
    """What a Gram with a NaN/Inf entry gets when the value checks are off: the uniform point,
    a NaN certificate and ``converged=False`` (no method can claim to have solved it)."""
    nan = float("nan")
    return [1.0 / k] * k, (nan, nan, nan), 0, False


def _solve_rows(
    rows: Rows,
    warm: list[float] | None,
    input_tol: float | None,
    symmetric: bool,
    tol: float,
    max_iter: int | None,
) -> Solution:
    k = len(rows)
    if not is_finite_rows(rows):
        if input_tol is not None:
            raise ValueError("gram contains NaN or Inf")
        return _not_finite(k)
    raw_scale = diagonal_scale(rows)
    unit = raw_scale if _needs_rescale(raw_scale) else 1.0
    if unit != 1.0:  # x / s, not x · (1/s): 1/s overflows for s < 2^-1024
        rows = [[x / unit for x in row] for row in rows]
    if input_tol is not None:
        rows = validate_gram_rows(rows, input_tol)
    elif not symmetric:
        rows = symmetrize_rows(rows)
    scale = diagonal_scale(rows)
    iters, ok = 0, True
    if scale == 0:
        support, coef = list(range(k)), [1.0 / k] * k
    elif k == 1:
        support, coef = [0], [1.0]
    elif k == 2:
        support, coef, iters = [0, 1], min_norm_2_rows(rows), 1
    else:
        solution = wolfe_min_norm_rows(rows, scale, warm, tol=tol, max_iter=max_iter)
        support, coef, iters, ok = solution
    f, gap, residual = kkt_certificate_rows(rows, support, coef, scale or 1.0)
    return dense_weights(k, support, coef), (f * unit, gap * unit, residual), iters, ok


def _solve_numpy(
    g: np.ndarray,
    warm: np.ndarray | None,
    input_tol: float | None,
    symmetric: bool,
    tol: float,
    max_iter: int | None,
) -> Solution:
    k = g.shape[0]
    if not np.isfinite(g).all():
        if input_tol is not None:
            raise ValueError("gram contains NaN or Inf")
        return _not_finite(k)
    raw_scale = float(np.abs(np.diagonal(g)).max())
    gn = g / (raw_scale or 1.0)  # checked and solved at unit scale (see _SAFE_SCALE)
    if input_tol is not None:
        gn = validate_gram_numpy(gn, input_tol)  # returns it symmetrised
    elif not symmetric:
        gn = 0.5 * (gn + gn.T)
    iters, ok = 0, True
    if raw_scale == 0:
        lam = np.full(k, 1.0 / k)
    else:
        lam, iters, ok = wolfe_min_norm_numpy(gn, warm, tol=tol, max_iter=max_iter)
    lam = project_to_simplex_numpy(lam)
    f, gap, residual = kkt_certificate_numpy(gn, lam)
    return lam.tolist(), (f * raw_scale, gap * raw_scale, residual), iters, ok


def _host_solution(
    gram: Tensor,
    warm_start: Tensor | None,
    input_tol: float | None,
    symmetric: bool,
    tol: float,
    max_iter: int | None,
) -> Solution:
    if gram.shape[-1] <= SMALL_K:
        warm = None if warm_start is None else warm_start.tolist()
        return _solve_rows(gram.tolist(), warm, input_tol, symmetric, tol, max_iter)
    g = gram.to(torch.float64).numpy()
    warm = None if warm_start is None else warm_start.numpy()
    return _solve_numpy(g, warm, input_tol, symmetric, tol, max_iter)


def solve_on_host(
    gram: Tensor,
    warm_start: Tensor | None,
    *,
    input_tol: float | None,
    symmetric: bool = False,
    dtype: torch.dtype,
    tol: float,
    max_iter: int | None,
) -> MinNormResult:
    """Solve ``min_{λ∈Δ} λᵀGλ`` for one ``[K, K]`` CPU Gram with Wolfe's method.

    Args:
        gram: the Gram, any real floating dtype (the result keeps it).
        warm_start: validated ``[K]`` float64 simplex point, or None.
        input_tol: run the value checks with this relative tolerance; None skips them (a Gram
            with a NaN/Inf entry then gets uniform weights and ``converged=False``).
        symmetric: the caller knows ``gram`` is exactly symmetric (skips symmetrising it).
        dtype: dtype of the result's floating fields.
        tol: Wolfe's stopping tolerance, relative to ``max_i G_ii``.
        max_iter: cap on Wolfe steps (None: the default of :mod:`mooptim._wolfe`).
    """
    solution = _host_solution(gram, warm_start, input_tol, symmetric, tol, max_iter)
    lam, (f, gap, residual), iters, ok = solution
    return MinNormResult(
        weights=torch.tensor(lam, dtype=dtype),
        min_norm_sq=torch.tensor(f, dtype=dtype),
        iterations=torch.tensor(iters),
        kkt_residual=torch.tensor(residual, dtype=dtype),
        duality_gap=torch.tensor(gap, dtype=dtype),
        converged=torch.tensor(ok),
    )


def weights_on_host(
    gram: Tensor, *, input_tol: float | None, symmetric: bool, tol: float, max_iter: int | None
) -> Tensor:
    """The ``[K]`` float64 weights of :func:`solve_on_host` (same checks and solve), without
    building the certificate's five other tensors: for callers that read only the weights."""
    lam = _host_solution(gram, None, input_tol, symmetric, tol, max_iter)[0]
    return torch.tensor(lam, dtype=torch.float64)
