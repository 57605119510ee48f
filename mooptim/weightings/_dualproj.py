"""DualProj: project the preference-weighted average gradient onto the dual cone of the gradients.

Quinton & Rey 2024, "Jacobian Descent for Multi-Objective Optimization" (arXiv:2406.16232), the
DualProj aggregator ``A(J) = π_J(Jᵀp)``; it is Eq. 11 of Lopez-Paz & Ranzato 2017 ("Gradient
Episodic Memory for Continual Learning") applied to the average. Through the Gramian
(Proposition 1), the weights are

    ``w = argmin_{v ≥ p} vᵀHv``

on ``H = G/tr(G) + reg_eps·I`` (``H = reg_eps·I`` when ``tr(G) < norm_eps``), as in TorchJD 0.18;
``p`` is the preference vector (uniform ``1/K`` by default).

Differs from TorchJD's ``DualProjWeighting``: a batch of problems is solved at once by an exact
active set (:mod:`~mooptim.weightings._dual_cone`) instead of one quadprog call per problem, each
answer is certified by its KKT residuals, a failure is an error naming the problem, and a zero
Gramian with ``norm_eps = 0`` gives ``w = p`` where TorchJD divides by zero. Like TorchJD, a
Gramian with ``tr(G) < norm_eps`` (default 1e-4, absolute) is treated as zero and gets ``w = p``.
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

__all__ = ["DualProjWeighting", "dualproj_weights"]


def dualproj_weights(
    gramian: Tensor,
    pref_vector: Sequence[float] | Tensor | None = None,
    *,
    norm_eps: float = 1e-4,
    reg_eps: float = 1e-4,
) -> Tensor:
    """``[..., K]`` DualProj weights ``argmin_{v ≥ p} vᵀHv`` of Gramians ``[..., K, K]``.

    Raises:
        ValueError: ``pref_vector`` of the wrong length, or a problem whose projection failed
            (non-finite or indefinite Gramian), naming it.
    """
    k = gramian.shape[-1]
    batch_shape = gramian.shape[:-2]
    flat = gramian.detach().to(torch.float64).reshape(-1, k, k)
    pref = preference(validate_preference(pref_vector), k, flat)
    rows = pref.expand(flat.shape[0], 1, k)
    v = certified_weights(flat, rows, norm_eps, reg_eps, batch_shape)
    return v.reshape(*batch_shape, k).to(gramian.dtype)  # R = 1 row per problem


class DualProjWeighting(DualConeWeighting):
    """DualProj's weights (TorchJD: ``DualProjWeighting``); see :func:`dualproj_weights`.

    Args:
        pref_vector: ``[K]`` preference ``p`` (default uniform ``1/K``).
        norm_eps: Gramians with trace below this are treated as zero (default 1e-4, TorchJD's).
        reg_eps: ridge on the trace-normalised Gramian (default 1e-4, TorchJD's).
    """

    name = "dualproj"

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        return dualproj_weights(
            gramian, self.pref_vector, norm_eps=self.norm_eps, reg_eps=self.reg_eps
        )
