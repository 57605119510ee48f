"""IMTL-G: the weights whose combination has equal projections on every unit gradient.

Liu et al. 2021, "Towards Impartial Multi-task Learning" (ICLR), gradient part, in the closed
form on the Gramian of Quinton & Rey 2024 ("Jacobian Descent for Multi-Objective Optimization"),
which also covers linearly dependent gradients:

    v = G⁺ d,   d_i = sqrt(G_ii) = ‖g_i‖,   w = v / Σ_i v_i   (w = 0 when Σ_i v_i = 0).

When G is invertible, ``G w = d / Σ v`` so ``⟨Σ_j w_j g_j, g_i / ‖g_i‖⟩ = 1 / Σ v`` is the same for
every i: the update is "impartial". Weights sum to 1 and may be negative.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._base import Weighting, _first_bad

__all__ = ["IMTLGWeighting", "imtl_g_weights"]

ZERO_SUM = 1e-12
"""``|Σ v|`` below this (on the Gramian scaled to a unit diagonal) gives zero weights."""


def _scaled_to_unit_diagonal(gramian: Tensor) -> Tensor:
    """``G / 4^k`` with the largest diagonal entry in ``[1/4, 1)``: exact (a power of two).

    The weights do not change with the scale of G; TorchJD's zero test ``|Σ v| < 1e-12`` does,
    so it is applied to this scaled Gramian. An exact power-of-four scale leaves ``G⁺`` and ``d``
    unchanged up to that power, bit for bit.
    """
    top = gramian.diagonal(dim1=-2, dim2=-1).amax(-1)
    _, exponent = torch.frexp(top)
    even = exponent - exponent.remainder(2)
    return torch.ldexp(gramian, -even[..., None, None].to(gramian.dtype))


WELL_CONDITIONED = 1e5
"""Bound ``tr(G) tr(G⁻¹)`` on the condition number below which a batch takes ``G⁺d = G⁻¹d``
(Cholesky): there ``G⁺ = G⁻¹`` (no singular value is near pinv's ``K·eps`` cut-off) and the
two agree to about ``cond · eps ≈ 2e-11``; the other problems get the pseudo-inverse."""


def _trace(matrices: Tensor) -> Tensor:
    return matrices.diagonal(dim1=-2, dim2=-1).sum(-1)


def _pinv_times(gramian: Tensor, d: Tensor) -> Tensor:
    """``[B, K]`` ``G⁺ d`` of ``[B, K, K]`` Gramians and ``[B, K]`` vectors.

    A batched SVD (pinv) costs about ten Cholesky factorisations on the CPU, so well-conditioned
    problems (the usual case) use ``G⁻¹ = cholesky_inverse`` and only the others the SVD. The
    product ``tr(G) tr(G⁻¹) ≥ λ_max / λ_min`` bounds the condition number from above: a failed or
    inaccurate factorisation gives a large or NaN bound and falls back to pinv.
    """
    factor, info = torch.linalg.cholesky_ex(gramian)
    factored = info == 0
    eye = torch.eye(gramian.shape[-1], dtype=gramian.dtype, device=gramian.device)
    inverse = torch.cholesky_inverse(torch.where(factored[:, None, None], factor, eye))
    bound = _trace(gramian) * _trace(inverse)
    direct = factored & (bound < WELL_CONDITIONED)  # NaN compares False
    v = (inverse @ d[..., None])[..., 0]
    if not bool(direct.all()):
        rest = ~direct
        v[rest] = (torch.linalg.pinv(gramian[rest]) @ d[rest][..., None])[..., 0]
    return v


def imtl_g_weights(gramian: Tensor) -> Tensor:
    """``[..., K]`` IMTL-G weights ``G⁺ d / Σ(G⁺ d)`` of PSD Gramians ``[..., K, K]``.

    Zero weights where ``|Σ_i v_i| < 1e-12`` on the Gramian scaled to a unit diagonal (the
    combination is 0: for example all gradients zero); the diagonal must be non-negative.
    """
    scaled = _scaled_to_unit_diagonal(gramian)
    norms = scaled.diagonal(dim1=-2, dim2=-1).sqrt()
    flat = scaled.reshape(-1, *scaled.shape[-2:])
    v = _pinv_times(flat, norms.reshape(flat.shape[:-1])).reshape(norms.shape)
    total = v.sum(-1, keepdim=True)
    degenerate = total.abs() < ZERO_SUM
    return torch.where(degenerate, torch.zeros_like(v), v / torch.where(degenerate, 1.0, total))


def _inverse_times_numpy(gramian: np.ndarray, d: np.ndarray) -> np.ndarray | None:
    """``G⁻¹ d`` by Cholesky where G is well-conditioned (as :func:`_pinv_times`), else None.

    ``G⁻¹ = L⁻ᵀL⁻¹``, so ``tr(G⁻¹) = ‖L⁻¹‖²_F`` gives the condition bound without forming G⁻¹.
    """
    try:
        factor = np.linalg.cholesky(gramian)
    except np.linalg.LinAlgError:
        return None
    inverse_factor = np.linalg.inv(factor)
    bound = float(gramian.trace()) * float(np.einsum("ij,ij->", inverse_factor, inverse_factor))
    if not bound < WELL_CONDITIONED:  # NaN compares False
        return None
    return inverse_factor.T @ (inverse_factor @ d)


def _imtl_g_numpy(gramian: np.ndarray) -> np.ndarray:
    """:func:`imtl_g_weights` of one ``[K, K]`` Gramian in numpy, the pseudo-inverse torch's.

    For one CPU problem torch's per-op dispatch costs more than the arithmetic. As the batch,
    a well-conditioned G takes ``G⁻¹d`` by Cholesky (numpy) and the others torch's (TorchJD's)
    pseudo-inverse: near-duplicate gradients (cond(G) ~ 1e12) make it sensitive to the
    LAPACK/BLAS build, and numpy's differs from TorchJD's by 1e-4 there.

    Raises:
        ValueError: a negative diagonal entry (not a Gramian).
    """
    diagonal = gramian.diagonal()
    if (diagonal < 0).any():
        raise ValueError("gramian has a negative diagonal entry (not a Gramian)")
    exponent = math.frexp(float(diagonal.max()))[1]
    scaled = np.ldexp(gramian, -(exponent - exponent % 2))  # as _scaled_to_unit_diagonal
    norms = np.sqrt(scaled.diagonal())
    v = _inverse_times_numpy(scaled, norms)
    if v is None:
        v = (torch.linalg.pinv(torch.from_numpy(scaled)) @ torch.from_numpy(norms)).numpy()
    total = float(v.sum())
    return np.zeros_like(v) if abs(total) < ZERO_SUM else v / total


class IMTLGWeighting(Weighting):
    """IMTL-G (Liu et al. 2021) in TorchJD's pseudo-inverse form, ``w = G⁺d / Σ G⁺d``.

    Same weights as TorchJD's ``IMTLGWeighting`` on the same Gramian, with one difference: TorchJD
    returns zero weights when ``|Σ v| < 1e-12`` on G as given, a test that depends on the scale of
    the gradients (``v`` scales as ``1/‖g‖``); here the test is made on G scaled to a unit
    diagonal, so the weights of ``c·G`` are those of ``G`` for every ``c > 0``. The two differ
    only where ``Σ v`` nearly cancels, where the weights are ill-conditioned anyway.

    Raises:
        ValueError: a negative diagonal entry (not a Gramian), naming the problem of the batch.
    """

    name = "imtl_g"

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor:
        return torch.from_numpy(_imtl_g_numpy(gramian))

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        if gramian.shape[0] == 1 and gramian.device.type == "cpu":
            return self._weights_on_host(gramian[0].numpy())[None]
        negative = (gramian.diagonal(dim1=-2, dim2=-1) < 0).any(-1)
        if bool(negative.any()):
            where = _first_bad(negative, negative.shape) if negative.numel() > 1 else ""
            raise ValueError(f"gramian has a negative diagonal entry (not a Gramian){where}")
        return imtl_g_weights(gramian)
