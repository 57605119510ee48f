"""Aligned-MTL: the preference weights through the balance transformation of the Gramian.

Senushkin et al. 2023, "Independent Component Alignment for Multi-Task Learning" (CVPR),
Algorithm 1, in TorchJD's form on the Gramian. With ``G = V Λ Vᵀ`` restricted to the r
eigenvalues above ``λ_max · K · eps`` (the numerical rank),

    B = sqrt(σ) V_r Λ_r^{-1/2} V_rᵀ,   w = B p,

where p is the preference vector (default uniform ``1/K``) and σ the scale: the smallest kept
eigenvalue (``"min"``, the default), their lower median (``"median"``) or their mean (``"rmse"``).
The combination ``Jᵀ w`` then has its principal components aligned and of equal magnitude
(the condition number of the combined gradient system is 1). ``w = p`` when G is zero (r = 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._base import Weighting

__all__ = ["AlignedMTLWeighting", "ScaleMode", "aligned_mtl_weights"]

ScaleMode: TypeAlias = Literal["min", "median", "rmse"]
SCALE_MODES: tuple[ScaleMode, ...] = ("min", "median", "rmse")


def _balance_scale(eigenvalues: Tensor, rank: Tensor, scale_mode: ScaleMode) -> Tensor:
    """σ of each problem from its ascending eigenvalues ``[B, K]`` and numerical rank ``[B]``."""
    k = eigenvalues.shape[-1]
    if scale_mode == "rmse":
        kept = torch.where(torch.arange(k, device=rank.device) >= k - rank[:, None], eigenvalues, 0)
        return kept.sum(-1) / rank.clamp_min(1)
    # The kept eigenvalues are the last r of the ascending order; torch.median's lower median
    # of r values is the ((r - 1) // 2)-th smallest of them.
    lower_median = (rank - 1).div(2, rounding_mode="floor")
    offset = torch.zeros_like(rank) if scale_mode == "min" else lower_median
    index = (k - rank + offset).clamp(0, k - 1)
    return eigenvalues.gather(-1, index[:, None])[:, 0]


def aligned_mtl_weights(
    gramian: Tensor, pref_vector: Tensor | None = None, scale_mode: ScaleMode = "min"
) -> Tensor:
    """``[..., K]`` Aligned-MTL weights ``B p`` of PSD Gramians ``[..., K, K]``.

    Args:
        gramian: ``[..., K, K]`` symmetric Gramians.
        pref_vector: ``[K]`` preference vector p (uniform ``1/K`` when ``None``), used as given.
        scale_mode: σ, see the module docstring.
    """
    k = gramian.shape[-1]
    batch_shape, gramian = gramian.shape[:-2], gramian.reshape(-1, k, k)
    if pref_vector is None:
        pref_vector = torch.full((k,), 1.0 / k, dtype=gramian.dtype, device=gramian.device)
    pref = pref_vector.to(dtype=gramian.dtype, device=gramian.device)
    # UPLO="U" as TorchJD, so both read the same triangle and round alike.
    eigenvalues, vectors = torch.linalg.eigh(gramian, UPLO="U")
    # TorchJD's numerical rank; clamped at 0 so that a (non-PSD) negative spectrum keeps nothing.
    tol = eigenvalues.amax(-1, keepdim=True).clamp_min(0) * k * torch.finfo(gramian.dtype).eps
    keep = eigenvalues > tol
    rank = keep.sum(-1)
    inverse_root = torch.where(keep, eigenvalues.where(keep, 1.0).rsqrt(), 0.0)
    scale = _balance_scale(eigenvalues, rank, scale_mode).clamp_min(0).sqrt()
    # B p = V_r (Λ_r^{-1/2} (V_rᵀ p)): matrix-vector products, never the K x K matrix B.
    coordinates = inverse_root * (vectors.mT @ pref)
    weights = scale[:, None] * (vectors @ coordinates[..., None])[..., 0]
    weights = torch.where(rank[:, None] == 0, pref.expand_as(weights), weights)
    return weights.reshape(*batch_shape, k)


def _aligned_mtl_numpy(gramian: Tensor, pref: np.ndarray, scale_mode: ScaleMode) -> np.ndarray:
    """:func:`aligned_mtl_weights` of one ``[K, K]`` CPU Gramian: torch's eigh, then numpy.

    One problem is dispatch-bound in torch; the eigendecomposition stays torch's (TorchJD's), as
    another LAPACK build may split a near-degenerate spectrum differently.
    """
    eigenvalues, vectors = (a.numpy() for a in torch.linalg.eigh(gramian, UPLO="U"))
    k = eigenvalues.shape[0]
    keep = eigenvalues > max(float(eigenvalues.max()), 0.0) * k * np.finfo(np.float64).eps
    kept = eigenvalues[keep]  # ascending, so the kept ones are the last r
    if kept.size == 0:
        return pref.copy()
    if scale_mode == "rmse":
        scale = kept.mean()
    else:
        scale = kept[0] if scale_mode == "min" else kept[(kept.size - 1) // 2]
    basis = vectors[:, keep]
    balance = (basis / np.sqrt(kept)) @ basis.T
    return np.sqrt(max(float(scale), 0.0)) * (balance @ pref)


class AlignedMTLWeighting(Weighting):
    """Aligned-MTL (Senushkin et al. 2023), TorchJD's ``AlignedMTLWeighting`` on the Gramian.

    Same defaults as TorchJD 0.18: uniform preference vector, ``scale_mode="min"``. The rank
    cut-off uses float64's eps whatever the input dtype (the family computes in float64);
    TorchJD, called on a float32 Gramian, would use float32's.

    Args:
        pref_vector: the preference weights p (K numbers, used as given), or ``None`` for 1/K.
        scale_mode: ``"min"`` (default), ``"median"`` or ``"rmse"``: which eigenvalue scales B.

    Raises:
        ValueError: unknown ``scale_mode``; at call, a preference vector of the wrong length.
    """

    name = "aligned_mtl"

    def __init__(
        self, pref_vector: Sequence[float] | None = None, scale_mode: ScaleMode = "min"
    ) -> None:
        if scale_mode not in SCALE_MODES:
            raise ValueError(f"scale_mode must be one of {SCALE_MODES}, got {scale_mode!r}")
        self.pref_vector = None if pref_vector is None else tuple(float(p) for p in pref_vector)
        self.scale_mode: ScaleMode = scale_mode

    def hyperparameters(self) -> dict[str, Any]:
        pref = None if self.pref_vector is None else list(self.pref_vector)
        return {"pref_vector": pref, "scale_mode": self.scale_mode}

    def _check_pref(self, k: int) -> None:
        if self.pref_vector is not None and len(self.pref_vector) != k:
            raise ValueError(
                f"pref_vector has {len(self.pref_vector)} entries for K = {k} objectives"
            )

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor:
        k = gramian.shape[0]
        self._check_pref(k)
        pref = np.full(k, 1.0 / k) if self.pref_vector is None else np.array(self.pref_vector)
        weights = _aligned_mtl_numpy(torch.from_numpy(gramian), pref, self.scale_mode)
        return torch.from_numpy(weights)

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        k = gramian.shape[-1]
        self._check_pref(k)
        if gramian.shape[0] == 1 and gramian.device.type == "cpu":
            return self._weights_on_host(gramian[0].numpy())[None]
        pref = None
        if self.pref_vector is not None:
            pref = torch.tensor(self.pref_vector, dtype=gramian.dtype, device=gramian.device)
        return aligned_mtl_weights(gramian, pref, self.scale_mode)
