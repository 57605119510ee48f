"""UPGrad: project each gradient onto the dual cone of all of them, and average the projections.

Quinton & Rey 2024, "Jacobian Descent for Multi-Objective Optimization" (arXiv:2406.16232), Eq. 5:
``A(J) = Σ_i p_i π_J(g_i)``, where ``π_J`` projects onto the dual cone ``{d : Jd ≥ 0}`` of the
rows of J and ``p`` is a preference vector (uniform ``1/K`` by default). Through the Gramian
(Proposition 1), ``π_J(Jᵀ p_i e_i) = Jᵀ v_i`` with

    ``v_i = argmin_{v ≥ p_i e_i} vᵀHv``   and the weights are   ``w = Σ_i v_i``,

on ``H = G/tr(G) + reg_eps·I`` (``H = reg_eps·I`` when ``tr(G) < norm_eps``), as in TorchJD 0.18.
The direction ``Jᵀw`` never conflicts with any objective: ``Gw ≥ 0`` (up to ``reg_eps``).

Differs from TorchJD's ``UPGradWeighting``: the K projections of every problem of a batch are
solved together by an exact active set (:mod:`~mooptim.weightings._dual_cone`) instead of one
quadprog call per row, each is certified by its KKT residuals, a failure is an error naming the
problem, and a zero Gramian with ``norm_eps = 0`` gives ``w = p`` where TorchJD divides by zero.
Like TorchJD, a Gramian with ``tr(G) < norm_eps`` (default 1e-4, an absolute threshold) is treated
as zero and gets ``w = p``: pass ``norm_eps=0`` for an answer invariant to the gradients' scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mooptim.weightings._dual_cone_weighting import (
    DualConeWeighting,
    certified_weights,
    preference,
    validate_preference,
)

__all__ = ["UPGradWeighting", "upgrad_weights"]


def upgrad_weights(
    gramian: Tensor,
    pref_vector: Sequence[float] | Tensor | None = None,
    *,
    norm_eps: float = 1e-4,
    reg_eps: float = 1e-4,
) -> Tensor:
    """``[..., K]`` UPGrad weights ``Σ_i argmin_{v ≥ p_i e_i} vᵀHv`` of Gramians ``[..., K, K]``.

    Raises:
        ValueError: ``pref_vector`` of the wrong length, or a problem whose projection failed
            (non-finite or indefinite Gramian), naming it.
    """
    k = gramian.shape[-1]
    batch_shape = gramian.shape[:-2]
    flat = gramian.detach().to(torch.float64).reshape(-1, k, k)
    pref = preference(validate_preference(pref_vector), k, flat)
    rows = torch.diag(pref).expand(flat.shape[0], k, k)
    v = certified_weights(flat, rows, norm_eps, reg_eps, batch_shape)
    return v.sum(-2).reshape(*batch_shape, k).to(gramian.dtype)


class UPGradWeighting(DualConeWeighting):
    """UPGrad's weights (TorchJD: ``UPGradWeighting``); see :func:`upgrad_weights`.

    Args:
        pref_vector: ``[K]`` preference ``p`` (default uniform ``1/K``).
        norm_eps: Gramians with trace below this are treated as zero (default 1e-4, TorchJD's).
        reg_eps: ridge on the trace-normalised Gramian (default 1e-4, TorchJD's).
    """

    name = "upgrad"

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        return upgrad_weights(
            gramian, self.pref_vector, norm_eps=self.norm_eps, reg_eps=self.reg_eps
        )
