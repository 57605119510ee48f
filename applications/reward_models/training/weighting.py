"""MORE's per-source weighting: a :class:`~mooptim.weighting.MinNormWeighting` from ``config.more``.

The min-norm problem is solved on the gradients of a parameter subspace (``more.subspace``).
"""

from __future__ import annotations

from torch import nn

from applications.reward_models.modeling.reward_model import reward_head, transformer_blocks
from applications.reward_models.training.config import MoreConfig, TrainConfig
from mooptim.gradients import GramAccumulation, SubspaceAutograd
from mooptim.normalizers import normalizer_from_name
from mooptim.solver import MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormWeighting

__all__ = ["make_weighting"]


def _subspace(more: MoreConfig, model: nn.Module) -> Subspace:
    """The parameters whose per-source gradients enter the min-norm problem."""
    if more.subspace == "head":
        return Subspace.from_module(reward_head(model))
    if more.subspace == "last_blocks":
        head = reward_head(model)
        blocks = Subspace.last_blocks(
            model, transformer_blocks(model), more.last_n_blocks, skip_frozen=True
        )
        return Subspace(
            list(blocks.params) + list(head.parameters()),
            list(blocks.names or ()) + [f"head.{n}" for n, _ in head.named_parameters()],
        )
    return Subspace.all(model)


def make_weighting(config: TrainConfig, model: nn.Module, num_sources: int) -> MinNormWeighting:
    """MORE's :class:`~mooptim.weighting.MinNormWeighting` configured by ``config.more``."""
    more = config.more
    strategy = SubspaceAutograd() if more.strategy == "autograd" else GramAccumulation()
    normalizer = None if more.normalizer == "none" else normalizer_from_name(more.normalizer)
    return MinNormWeighting(
        _subspace(more, model),
        solver=MinNormSolver(more.solver),
        normalizer=normalizer,
        ema_alpha=more.ema_alpha,
        strategy=strategy,
        scale_by_num_objectives=more.scale_by_num_objectives,
        num_objectives=num_sources,
    )
