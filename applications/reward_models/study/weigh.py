"""The study's one call into MORE's weighting step (and its family's).

:func:`make_weighting` builds the stateful step once per run from a :class:`WeightingSpec`;
:func:`weigh` turns one micro-batch's per-source losses into the loss to backpropagate and λ.
This is the whole interface the study's training loop has with the weighting: when the
application's shared step (``training/step.py``) lands, these two functions are what it
replaces. The step is :class:`mooptim.ObjectiveWeighting` (MinNormWeighting's step with any
registered weighting: MGDA is MORE), l2-normalized per-source gradients, EMA of the new
gradient α = 0.99 (the paper's launch configuration), gradients of the ``params`` subspace by
autograd.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["WeightedLoss", "WeightingSpec", "is_registered", "make_weighting", "weigh"]


@dataclass(frozen=True)
class WeightingSpec:
    """A weighting by its registry name (``mooptim.weightings.WEIGHTINGS``) and options."""

    name: str = "mgda"
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    normalizer: str | None = "l2"
    ema_alpha: float | None = 0.99


@dataclass(frozen=True)
class WeightedLoss:
    """``loss`` (Σ λ_i L_i, with its graph), detached ``weights`` [K] and the normalized Gram."""

    loss: torch.Tensor
    weights: torch.Tensor
    gram: torch.Tensor


def is_registered(name: str) -> bool:
    """Whether ``name`` is in ``mooptim.weightings.WEIGHTINGS`` (the family grows by merge)."""
    from mooptim.weightings import WEIGHTINGS

    return name in WEIGHTINGS


def make_weighting(
    params: Sequence[torch.nn.Parameter], spec: WeightingSpec, num_sources: int
) -> Any:
    """The stateful step for ``spec`` over the subspace ``params``."""
    from mooptim.normalizers import normalizer_from_name
    from mooptim.objective_weighting import ObjectiveWeighting
    from mooptim.subspace import Subspace
    from mooptim.weightings import weighting_from_name

    normalizer = None if spec.normalizer is None else normalizer_from_name(spec.normalizer)
    return ObjectiveWeighting(
        Subspace(list(params)),
        weighting=weighting_from_name(spec.name, **spec.hyperparameters),
        normalizer=normalizer,
        ema_alpha=spec.ema_alpha,
        num_objectives=num_sources,
    )


def weigh(losses: Sequence[torch.Tensor | None], weighting: Any) -> WeightedLoss:
    """Per-source losses (``None``: absent) → Σ λ_i L_i and λ, by the step ``weighting``."""
    out = weighting.combine(list(losses))
    return WeightedLoss(out.loss, out.weights.detach(), out.gram.detach())
