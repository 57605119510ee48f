"""What UPGrad and DualProj share: the preference vector, the two eps, and the certified solve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from mooptim.weightings._base import Weighting
from mooptim.weightings._dual_cone import certified_projection

__all__ = ["DualConeWeighting", "certified_weights", "preference", "validate_preference"]

# A projection whose KKT residual exceeds this is reported as a failure, never returned: with
# reg_eps = 1e-4 the residuals are ~1e-15; a larger one means an indefinite (non-Gram) input.
CERTIFICATE_TOL = 1e-8


def validate_preference(pref_vector: Sequence[float] | Tensor | None) -> tuple[float, ...] | None:
    """The preference vector as a tuple of finite floats (None: uniform ``1/K``).

    Raises:
        ValueError: not one-dimensional, empty, or with a NaN/Inf entry.
    """
    if pref_vector is None:
        return None
    values = torch.as_tensor(pref_vector, dtype=torch.float64).detach().cpu()
    if values.dim() != 1 or values.numel() == 0:
        raise ValueError(f"pref_vector must be a non-empty vector, got shape {tuple(values.shape)}")
    if not bool(torch.isfinite(values).all()):
        raise ValueError(f"pref_vector has a NaN or Inf entry: {values.tolist()}")
    return tuple(values.tolist())


def preference(pref: tuple[float, ...] | None, k: int, like: Tensor) -> Tensor:
    """``[K]`` float64 preference on ``like``'s device: ``pref``, or uniform ``1/K`` if None.

    Raises:
        ValueError: ``pref`` has a length other than K.
    """
    if pref is None:
        return torch.full((k,), 1.0 / k, dtype=torch.float64, device=like.device)
    if len(pref) != k:
        raise ValueError(f"pref_vector has {len(pref)} entries but the Gramian has K = {k}")
    return torch.tensor(pref, dtype=torch.float64, device=like.device)


def _problem(flat: int, batch_shape: torch.Size) -> str:
    """`` for problem i of the batch`` (i unravelled in ``batch_shape``), or ``""`` unbatched."""
    if not batch_shape:
        return ""
    where = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), batch_shape))
    return f" for problem {where[0] if len(where) == 1 else where} of the batch"


def certified_weights(
    gramian: Tensor, u: Tensor, norm_eps: float, reg_eps: float, batch_shape: torch.Size
) -> Tensor:
    """``[B, R, K]`` projections ``argmin_{v ≥ u} vᵀHv``, each certified by its KKT residual.

    Raises:
        ValueError: some problem was not solved (non-finite, or not PSD beyond ``reg_eps``),
            naming the first one.
    """
    v, failed = certified_projection(gramian, u, (norm_eps, reg_eps), CERTIFICATE_TOL)
    if failed is not None:
        bad, residual = (torch.as_tensor(a) for a in failed)
        flat = int(torch.nonzero(bad)[0, 0])
        raise ValueError(
            f"the dual-cone projection failed{_problem(flat, batch_shape)} (KKT residual "
            f"{float(residual[flat].max()):.3g}): is the Gramian finite and positive semi-definite?"
        )
    return v


class DualConeWeighting(Weighting):
    """Base of UPGrad and DualProj: holds ``pref_vector``, ``norm_eps`` and ``reg_eps``.

    Args:
        pref_vector: ``[K]`` preference over the objectives (default uniform ``1/K``).
        norm_eps: a Gramian with trace below this is treated as zero (TorchJD's default 1e-4).
        reg_eps: ridge on the trace-normalised Gramian (TorchJD's default 1e-4).

    Raises:
        ValueError: a malformed ``pref_vector`` or a negative eps.
    """

    def __init__(
        self,
        pref_vector: Sequence[float] | Tensor | None = None,
        norm_eps: float = 1e-4,
        reg_eps: float = 1e-4,
    ) -> None:
        for what, value in (("norm_eps", norm_eps), ("reg_eps", reg_eps)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{what} must be finite and ≥ 0, got {value}")
        self.pref_vector = validate_preference(pref_vector)
        self.norm_eps = float(norm_eps)
        self.reg_eps = float(reg_eps)

    def hyperparameters(self) -> dict[str, Any]:
        pref = None if self.pref_vector is None else list(self.pref_vector)
        return {"pref_vector": pref, "norm_eps": self.norm_eps, "reg_eps": self.reg_eps}
