"""Processes: the ``Accelerator`` of a run and each rank's share of a global batch."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState

from applications.reward_models.training.config import TrainConfig

__all__ = ["make_accelerator", "rank_share"]

T = TypeVar("T")


def make_accelerator(config: TrainConfig) -> Accelerator:
    """An ``Accelerator``; multi-process runs on a machine without CUDA use gloo on the CPU.

    accelerate only takes the multi-CPU path when asked for the CPU (``accelerate launch --cpu``
    sets ``ACCELERATE_USE_CPU``); a ``torchrun`` / spawned launch without CUDA would otherwise
    silently train each rank alone.
    """
    state = AcceleratorState._shared_state
    if (
        state
        and str(state.get("_mixed_precision", config.mixed_precision)) != config.mixed_precision
    ):
        # accelerate keeps one process-wide state; a later run in the same process (tests,
        # reproduce scripts) with another precision would otherwise be refused.
        AcceleratorState._reset_state()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cpu = world > 1 and not torch.cuda.is_available()
    extra = {"cpu": True} if cpu else {}
    return Accelerator(
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        **extra,
    )


def rank_share(batch: Sequence[T], rank: int, world: int) -> list[T]:
    """This rank's pairs of a global batch: every ``world``-th pair from position ``rank``."""
    return list(batch[rank::world])
