"""Mean: the uniform weights ``w = 1/K`` (the plain average of the objectives)."""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._base import Weighting

__all__ = ["MeanWeighting", "mean_weights"]


def mean_weights(gramian: Tensor) -> Tensor:
    """``[..., K]`` uniform weights ``1/K`` for Gramians ``[..., K, K]``."""
    k = gramian.shape[-1]
    return torch.full(gramian.shape[:-1], 1.0 / k, dtype=gramian.dtype, device=gramian.device)


@functools.lru_cache(maxsize=64)
def _uniform(k: int) -> np.ndarray:
    """A read-only ``[K]`` vector of ``1/K`` (copying it is cheaper than building it)."""
    weights = np.full(k, 1.0 / k)
    weights.flags.writeable = False
    return weights


class MeanWeighting(Weighting):
    """``w_i = 1/K``: the baseline every other method is compared with (TorchJD: ``Mean``)."""

    name = "mean"
    reads_gramian = False

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        return mean_weights(gramian)

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor:
        return torch.from_numpy(_uniform(gramian.shape[0]).copy())
