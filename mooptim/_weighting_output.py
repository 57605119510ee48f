"""The result of one weighting step (:class:`mooptim.ObjectiveWeighting`'s entry points)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from mooptim._step import WeightingStep

__all__ = ["WeightingOutput"]


@dataclass(frozen=True)
class WeightingOutput:
    """Result of one weighting step.

    Attributes:
        loss: Σ w_i L_i over this rank's objectives (× number of active objectives when
            ``scale_by_num_objectives``). From ``combine`` it carries the graph — call
            ``.backward()``; from ``backward_parts`` it is detached (``.grad`` is already filled).
            Zero when no objective is active.
        weights: ``[K]`` detached weights w of the active objectives, 0 elsewhere (all zero when
            none is active). MGDA's are on the simplex; other methods' are what the method gives
            (Mean sums to 1, DWA to the number of active objectives, ...).
        active: ``[K]`` bool: present (on some rank) and with a nonzero gradient.
        present: ``[K]`` bool: a loss was given (on some rank).
        losses: ``[K]`` detached loss values of this rank (0 where absent).
        gram: ``[K, K]`` normalised Gram given to the weighting (zero rows/columns for inactive
            objectives).
        min_norm_sq: wᵀ G w of the normalised Gram: ‖Σ w_i g_i / s_i‖², the squared norm of the
            update direction. For MGDA the min-norm value, → 0 at a Pareto-stationary point.
        result: MGDA's solver result (with its certificate) over the active objectives, or
            ``None``: another weighting, or fewer than two objectives active (no solve needed).
        num_active: number of active objectives (a Python int).
    """

    loss: torch.Tensor
    weights: torch.Tensor
    active: torch.Tensor
    present: torch.Tensor
    losses: torch.Tensor
    gram: torch.Tensor
    min_norm_sq: torch.Tensor
    result: Any
    num_active: int

    @classmethod
    def from_step(cls, loss: torch.Tensor, step: WeightingStep) -> WeightingOutput:
        """The output of a step whose decisions are ``step`` and whose combined loss is ``loss``."""
        return cls(
            loss=loss,
            weights=step.weights.detach(),
            active=step.active,
            present=step.present,
            losses=step.losses,
            gram=step.gram,
            min_norm_sq=step.min_norm_sq,
            result=step.result,
            num_active=step.num_active,
        )
