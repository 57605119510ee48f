"""MORE's step on a reward model: the subspace ``more.subspace`` names, then
:class:`.step.MoreStep`.

``head`` is the reward head (the final ``Linear(·, 1)``), ``last_blocks`` the last
``more.last_n_blocks`` transformer blocks plus the head, ``all`` every trainable parameter.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from applications.reward_models.modeling.reward_model import reward_head, transformer_blocks
from applications.reward_models.sections import MoreConfig
from applications.reward_models.training.step import MoreStep
from mooptim.subspace import Subspace

__all__ = ["model_subspace", "more_step"]


def model_subspace(more: MoreConfig, model: nn.Module) -> Subspace:
    """The parameters of ``model`` whose per-source gradients enter the weighting."""
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


def more_step(more: MoreConfig, model: nn.Module, num_sources: int, **options: Any) -> MoreStep:
    """MORE's :class:`~.step.MoreStep` on ``model``'s subspace, configured by ``more``.

    Raises:
        TypeError: ``more`` is not a :class:`~..sections.MoreConfig`.
        ConfigError: options that cannot go together (:meth:`MoreConfig.check`).
    """
    if not isinstance(more, MoreConfig):
        raise TypeError(f"more must be a MoreConfig, got {type(more).__name__}")
    return MoreStep.from_config(more, model_subspace(more, model), num_sources, **options)
