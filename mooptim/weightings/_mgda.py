"""MGDA: the min-norm point of the convex hull of the gradients (Sener & Koltun 2018).

``w = argmin_{w ∈ Δ} wᵀ G w``, solved by :class:`mooptim.MinNormSolver` (exact by default).

Differs from TorchJD's ``MGDAWeighting``: TorchJD runs Frank-Wolfe and stops after at most
``max_iters = 100`` steps or once the step is below ``epsilon = 0.001``, so its weights are an
approximation of the minimiser; ours are the minimiser, certified by the KKT residual.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from mooptim.solver import MinNormSolver
from mooptim.weightings._base import Weighting

__all__ = ["MGDAWeighting", "mgda_weights"]


def mgda_weights(gramian: Tensor, solver: MinNormSolver | None = None) -> Tensor:
    """``[..., K]`` min-norm weights ``argmin_{w ∈ Δ} wᵀGw`` of Gramians ``[..., K, K]``."""
    return (solver or MinNormSolver()).solve_gram(gramian).weights


class MGDAWeighting(Weighting):
    """MGDA's min-norm weights (the paper's, and MORE's, method).

    Args:
        method: the :class:`mooptim.MinNormSolver` method (``"exact"`` by default).
        tol: the solver's tolerance (its default when ``None``).
        max_iter: the solver's iteration cap (its default when ``None``).
    """

    name = "mgda"

    def __init__(
        self, method: str = "exact", *, tol: float | None = None, max_iter: int | None = None
    ) -> None:
        self.solver = MinNormSolver(method, tol=tol, max_iter=max_iter)
        self._hyper = {"method": method, "tol": tol, "max_iter": max_iter}

    def hyperparameters(self) -> dict[str, Any]:
        return dict(self._hyper)

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor | None:
        if not isinstance(self.solver, MinNormSolver):
            return None
        return self.solver.solve_gram_weights(torch.from_numpy(gramian))

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        if gramian.shape[0] == 1 and isinstance(self.solver, MinNormSolver):
            # One [K, K] CPU Gram: the solver's plain-float host path, weights only.
            return self.solver.solve_gram_weights(gramian[0])[None]
        return mgda_weights(gramian, self.solver)
