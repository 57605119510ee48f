"""The one place where the TRL integration reaches into the project's own MORE trainer.

MORE's pieces that must behave identically in both trainers are imported from
:mod:`applications.reward_models.training` rather than re-implemented: the per-source
Bradley–Terry losses and the min-norm weighting built from a :class:`MoreConfig`. When the
trainer's internals move, only this module changes.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from applications.reward_models.training.config import MoreConfig, TrainConfig
from applications.reward_models.training.schemes import make_weighting, source_losses

__all__ = ["MoreConfig", "build_weighting", "source_losses"]


def build_weighting(more: MoreConfig, model: nn.Module, num_sources: int) -> Any:
    """MORE's :class:`~mooptim.weighting.MinNormWeighting` for ``model`` and K = ``num_sources``.

    The options are checked exactly as the training CLI checks ``more.*`` (unknown subspace,
    normalizer, solver or strategy, an EMA with the ``gram`` strategy, ...).

    Raises:
        TypeError: ``more`` is not a :class:`MoreConfig`.
        ValueError: an invalid MORE option (named as ``more.<field>``).
    """
    if not isinstance(more, MoreConfig):
        raise TypeError(f"more must be a MoreConfig, got {type(more).__name__}")
    config = TrainConfig(more=more).validate()
    return make_weighting(config, model, num_sources)
