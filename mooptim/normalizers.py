"""Gradient normalizers applied before the min-norm solve: ``g_i ← g_i / s_i``.

Follows ``gradient_normalizers`` of Sener & Koltun's MGDA-UB reference code
(github.com/isl-org/MultiObjectiveOptimization, ``multi_task/min_norm_solvers.py``):

=========  ======================  ==================
name       divisor ``s_i``         class
=========  ======================  ==================
``none``   ``1``                   NoNormalization
``l2``     ``‖g_i‖``               L2Normalization
``loss``   ``L_i``                 LossNormalization
``loss+``  ``L_i ‖g_i‖``           LossL2Normalization
=========  ======================  ==================

Differences from the reference (which divides unconditionally): a divisor that is 0 (zero gradient
or zero loss) is replaced by 1, so a zero gradient stays zero and nothing becomes NaN; negative
losses are rejected for the loss-based normalizers, since dividing by them would flip the gradient.
On the Gram, normalisation is ``G ← D G D`` with ``D = diag(1/s)`` (:func:`normalize_gram`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def _safe(divisor: Tensor) -> Tensor:
    return torch.where(divisor > 0, divisor, torch.ones_like(divisor))


def _check_losses(losses: Tensor | None, sq_norms: Tensor, name: str) -> Tensor:
    if losses is None:
        raise ValueError(f"the {name!r} normalizer needs the losses")
    losses = torch.as_tensor(losses, dtype=sq_norms.dtype, device=sq_norms.device)
    if losses.shape != sq_norms.shape:
        raise ValueError(
            f"losses have shape {tuple(losses.shape)}, sq_norms {tuple(sq_norms.shape)}; "
            "they must match ([..., K])"
        )
    bad = ~torch.isfinite(losses) | (losses < 0)
    if bool(bad.any()):
        i = torch.nonzero(bad)[0].tolist()
        raise ValueError(
            f"the {name!r} normalizer needs finite losses ≥ 0; loss at index {i} is "
            f"{float(losses[tuple(i)])}"
        )
    return losses


class NoNormalization:
    """``s_i = 1``: the gradients are used as they are."""

    name = "none"

    def scales(self, sq_norms: Tensor, losses: Tensor | None = None) -> Tensor:
        """Divisors ``[..., K]`` (all ones) for gradients with squared norms ``sq_norms``."""
        return torch.ones_like(sq_norms)


class L2Normalization:
    """``s_i = ‖g_i‖`` (unit gradients); 1 for a zero gradient."""

    name = "l2"

    def scales(self, sq_norms: Tensor, losses: Tensor | None = None) -> Tensor:
        """Divisors ``[..., K]`` from the squared gradient norms (e.g. the Gram diagonal)."""
        return _safe(sq_norms.clamp_min(0).sqrt())


class LossNormalization:
    """``s_i = L_i`` (loss-scaled gradients); 1 for a zero loss. Losses must be ≥ 0."""

    name = "loss"

    def scales(self, sq_norms: Tensor, losses: Tensor | None = None) -> Tensor:
        """Divisors ``[..., K]``; raises ValueError without losses or with a negative/NaN loss."""
        return _safe(_check_losses(losses, sq_norms, self.name))


class LossL2Normalization:
    """``s_i = L_i ‖g_i‖`` (MGDA-UB's ``loss+``); 1 where that product is 0. Losses must be ≥ 0."""

    name = "loss+"

    def scales(self, sq_norms: Tensor, losses: Tensor | None = None) -> Tensor:
        """Divisors ``[..., K]``; raises ValueError without losses or with a negative/NaN loss."""
        losses = _check_losses(losses, sq_norms, self.name)
        return _safe(losses * sq_norms.clamp_min(0).sqrt())


Normalizer = NoNormalization | L2Normalization | LossNormalization | LossL2Normalization

_CLASSES: tuple[type[Normalizer], ...] = (
    NoNormalization,
    L2Normalization,
    LossNormalization,
    LossL2Normalization,
)
#: CLI names of the normalizers, as accepted by :func:`normalizer_from_name`.
NORMALIZERS: tuple[str, ...] = tuple(cls.name for cls in _CLASSES)


def normalizer_from_name(name: str) -> Normalizer:
    """Build a normalizer from its CLI name: ``"none"``, ``"l2"``, ``"loss"`` or ``"loss+"``.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    for cls in _CLASSES:
        if cls.name == name:
            return cls()
    raise ValueError(f"unknown normalizer {name!r}; choose one of {list(NORMALIZERS)}")


def normalize_gram(gram: Tensor, scales: Tensor) -> Tensor:
    """``D G D`` with ``D = diag(1/s)``: the Gram of the normalised vectors ``g_i / s_i``.

    Args:
        gram: ``[..., K, K]``.
        scales: ``[..., K]`` divisors; zeros are treated as 1 (a zero gradient stays zero).
    """
    inv = 1.0 / _safe(scales.to(gram.dtype))
    return gram * inv.unsqueeze(-1) * inv.unsqueeze(-2)


def normalize_vectors(vectors: Tensor, scales: Tensor) -> Tensor:
    """``g_i / s_i`` for ``vectors [..., K, d]`` and ``scales [..., K]`` (zeros treated as 1)."""
    return vectors / _safe(scales.to(vectors.dtype)).unsqueeze(-1)
