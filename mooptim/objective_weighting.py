"""``ObjectiveWeighting``: the weighting step of :class:`MinNormWeighting` with any weighting.

PROVISIONAL (to be completed by the weighting-family work, issue 20): the step takes any
:class:`mooptim.weightings.Weighting` (or its registry name) in place of the min-norm solver;
the subspaces, normalizers, EMA, DDP sync and state_dict are MinNormWeighting's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from mooptim.weighting import MinNormWeighting
from mooptim.weightings import MGDAWeighting, Weighting, weighting_from_name

__all__ = ["ObjectiveWeighting"]


@dataclass(frozen=True)
class _WeightingResult:
    weights: Tensor
    min_norm_sq: Tensor


class _AsSolver:
    """Adapts a weighting to the ``solve_gram`` interface the step calls."""

    def __init__(self, weighting: Weighting) -> None:
        self.weighting = weighting

    def solve_gram(self, gram: Tensor, warm_start: Tensor | None = None) -> Any:
        if isinstance(self.weighting, MGDAWeighting):
            return self.weighting.solver.solve_gram(gram, warm_start=warm_start)
        weights = self.weighting(gram)
        return _WeightingResult(weights, torch.einsum("i,ij,j->", weights, gram, weights))


class ObjectiveWeighting(MinNormWeighting):
    """:class:`MinNormWeighting` whose λ comes from ``weighting`` (default ``"mgda"``)."""

    def __init__(self, subspace: Any, weighting: Weighting | str = "mgda", **options: Any) -> None:
        if isinstance(weighting, str):
            weighting = weighting_from_name(weighting)
        self.weighting = weighting
        super().__init__(subspace, solver=_AsSolver(weighting), **options)
