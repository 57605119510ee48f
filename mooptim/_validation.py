"""Input validation for the min-norm solvers (torch): shapes, dtypes, finiteness, symmetry, PSD.

Every check raises :class:`ValueError` (or :class:`TypeError` for dtypes) naming what is wrong and,
for batched input, the first offending problem. The checks that need the values (finiteness,
symmetry, eigenvalues) cost one host sync each; ``MinNormSolver(check_input=False)`` skips them.
Plain-float and numpy twins of :func:`validate_gram`: :mod:`mooptim._rows`,
:mod:`mooptim._wolfe_numpy`.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import torch
from torch import Tensor

from mooptim._certificate import gram_scale


def default_tolerance(dtype: torch.dtype) -> float:
    """Relative tolerance of the symmetry/PSD checks: ``sqrt(eps)`` of the dtype (f32: 3.5e-4)."""
    return float(torch.finfo(dtype).eps) ** 0.5


def _check_float(x: Tensor, what: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{what} must have a real floating dtype, got {x.dtype}")


def _first_bad(mask: Tensor) -> str:
    """Human-readable batch index of the first True entry of ``mask`` (``[...]``)."""
    if mask.dim() == 0 or not bool(mask.any()):
        return ""
    idx = torch.nonzero(mask)[0].tolist()
    return f" (problem {tuple(idx) if len(idx) > 1 else idx[0]} of the batch)"


def check_gram_shape(gram: Tensor) -> int:
    """Check ``gram`` is a real ``[..., K, K]`` tensor with ``K ≥ 1``; return K.

    Raises:
        TypeError: not a tensor, or not a real floating dtype.
        ValueError: fewer than 2 dims, not square in the last two, or K = 0.
    """
    _check_float(gram, "gram")
    if gram.dim() < 2:
        raise ValueError(f"gram must have shape [..., K, K], got {tuple(gram.shape)}")
    k1, k2 = gram.shape[-2], gram.shape[-1]
    if k1 != k2:
        raise ValueError(f"gram must be square in its last two dims, got {tuple(gram.shape)}")
    if k1 == 0:
        raise ValueError("gram has K = 0 objectives; the min-norm problem needs K ≥ 1")
    return k1


def validate_gram(gram: Tensor, *, check_values: bool = True, tol: float | None = None) -> Tensor:
    """Validate a Gram batch and return it symmetrised in float64.

    Args:
        gram: ``[..., K, K]`` real Gram matrices.
        check_values: run the finiteness, symmetry and PSD checks.
        tol: relative tolerance (of ``s = max_i |G_ii|``) for ``|G − Gᵀ|`` and for negative
            eigenvalues; default ``sqrt(eps)`` of the input dtype.

    Returns:
        ``(G + Gᵀ)/2`` in float64.

    Raises:
        TypeError: not a real floating tensor.
        ValueError: bad shape, K = 0, NaN/Inf, asymmetry or a negative eigenvalue beyond ``tol``.
    """
    check_gram_shape(gram)
    tol = default_tolerance(gram.dtype) if tol is None else float(tol)
    g = gram.to(torch.float64)
    if check_values:
        # One reduction proves finiteness (a NaN/Inf entry makes the sum non-finite); the
        # per-problem test runs only to confirm and locate.
        if not bool(torch.isfinite(g.sum())):
            finite = torch.isfinite(g).flatten(-2).all(-1)
            if not bool(finite.all()):
                raise ValueError(f"gram contains NaN or Inf{_first_bad(~finite)}")
        scale = gram_scale(g)
        asym = (g - g.mT).abs().flatten(-2).amax(-1)
        bad = asym > tol * scale
        if bool(bad.any()):
            worst = float((asym / scale).amax())
            raise ValueError(
                f"gram is not symmetric{_first_bad(bad)}: max |G - G^T| / max|G_ii| = "
                f"{worst:.3g} > tol = {tol:.3g}"
            )
    g = 0.5 * (g + g.mT)
    if check_values:
        k = g.shape[-1]
        # λ_min(G/s) ≥ −K·tol  ⇔  G/s + K·tol·I is positive definite: a Cholesky (about twice as
        # fast as eigvalsh on small batched matrices) decides it; eigvalsh only for the message.
        shift = tol * k
        normed = g / gram_scale(g)[..., None, None]
        eye = torch.eye(k, dtype=g.dtype, device=g.device)
        _, info = torch.linalg.cholesky_ex(normed + shift * eye)
        if bool((info != 0).any()):
            lam_min = torch.linalg.eigvalsh(normed)[..., 0]
            bad = lam_min < -shift
            raise ValueError(
                f"gram is not positive semidefinite{_first_bad(bad)}: smallest eigenvalue / "
                f"max|G_ii| = {float(lam_min.amin()):.3g} < -{shift:.3g}"
            )
    return g


def validate_vectors(vectors: Tensor, *, check_values: bool = True) -> Tensor:
    """Validate ``[..., K, d]`` objective vectors (gradients); return them unchanged.

    Raises:
        TypeError: not a real floating tensor.
        ValueError: fewer than 2 dims, K = 0, or a non-finite entry (naming the objective index).
    """
    _check_float(vectors, "vectors")
    if vectors.dim() < 2:
        raise ValueError(f"vectors must have shape [..., K, d], got {tuple(vectors.shape)}")
    if vectors.shape[-2] == 0:
        raise ValueError("vectors has K = 0 objectives; the min-norm problem needs K ≥ 1")
    if check_values:
        finite = torch.isfinite(vectors).all(-1)  # [..., K]
        if not bool(finite.all()):
            where = torch.nonzero(~finite)[0].tolist()
            obj, batch = where[-1], where[:-1]
            at = f" in problem {tuple(batch)} of the batch" if batch else ""
            raise ValueError(f"vectors: objective {obj} has a non-finite (NaN/Inf) entry{at}")
    return vectors


def validate_warm_start(warm_start: Tensor, batch_shape: torch.Size, k: int) -> Tensor:
    """Check a warm start ``[..., K]`` and return it as a float64 simplex point.

    Entries must be finite and ``≥ 0`` (tiny negatives from rounding, ``≥ -1e-6·Σ``, are clipped);
    rows are renormalised to sum to 1. A row summing to 0 is replaced by the uniform point.

    Raises:
        ValueError: wrong shape, NaN/Inf, or clearly negative entries.
    """
    _check_float(warm_start, "warm_start")
    expected = (*batch_shape, k)
    if tuple(warm_start.shape) != expected:
        raise ValueError(
            f"warm_start has shape {tuple(warm_start.shape)}, expected {expected} "
            "(the batch shape of the problem followed by K)"
        )
    w = warm_start.to(torch.float64)
    if not bool(torch.isfinite(w).all()):
        raise ValueError("warm_start contains NaN or Inf")
    total = w.clamp_min(0).sum(-1, keepdim=True)
    if bool((w < -1e-6 * total.clamp_min(1e-300)).any()):
        raise ValueError("warm_start has negative entries; it must be a point of the simplex")
    w = w.clamp_min(0)
    return torch.where(total > 0, w / total.clamp_min(1e-300), torch.full_like(w, 1.0 / k))


def check_positive_real(value: object, name: str, *, allow_none: bool = True) -> float | None:
    """``value`` as a finite float ``> 0`` (or None when allowed).

    Raises:
        TypeError: a bool or a non-number (``"1e-6"``, a list).
        ValueError: NaN, ±inf, zero or negative.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a positive finite number, got {value!r}")
    if not math.isfinite(value) or not value > 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_positive_int(value: object, name: str, *, allow_none: bool = True) -> int | None:
    """``value`` as an ``int ≥ 1`` (or None when allowed); a bool is not an int here.

    Raises:
        TypeError: a bool, a float (even ``3.0``) or a non-number.
        ValueError: zero or negative.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer ≥ 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer ≥ 1, got {value!r}")
    return int(value)
