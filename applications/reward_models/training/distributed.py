"""Processes: the ``Accelerator`` of a run and each rank's share of a global batch.

Every step's global batch holds exactly K × m pairs (the samplers complete an epoch's short last
batch, see :mod:`.schemes`); rank r of W takes pairs r, r + W, … — an equal, non-empty share when
W divides the batch (MORE's balanced batches: when W divides m, so every rank keeps m/W pairs of
every source). Only public accelerate API is used.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import torch
from accelerate import Accelerator

from applications.reward_models.training.config import TrainConfig

__all__ = ["make_accelerator", "rank_share"]

T = TypeVar("T")


def make_accelerator(config: TrainConfig) -> Accelerator:
    """An ``Accelerator``; multi-process runs on a machine without CUDA use gloo on the CPU.

    accelerate only takes the multi-CPU path when asked for the CPU (``accelerate launch --cpu``
    sets ``ACCELERATE_USE_CPU``); a ``torchrun`` launch without CUDA would otherwise silently
    train each rank alone.

    Raises:
        ValueError: this process already runs accelerate with another ``mixed_precision``
            (accelerate keeps one process-wide state: train each precision in its own process).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cpu = world > 1 and not torch.cuda.is_available()
    extra = {"cpu": True} if cpu else {}
    try:
        return Accelerator(
            mixed_precision=config.mixed_precision,
            gradient_accumulation_steps=config.gradient_accumulation_steps,
            **extra,
        )
    except ValueError as err:
        if "mixed_precision" not in str(err):
            raise
        raise ValueError(
            f"mixed_precision={config.mixed_precision!r}: this process already trained with "
            "another precision and accelerate keeps one precision per process; run each "
            "precision in its own process"
        ) from err


def rank_share(batch: Sequence[T], rank: int, world: int) -> list[T]:
    """This rank's pairs of a global batch: every ``world``-th pair from position ``rank``.

    Raises:
        ValueError: ``world`` does not divide the batch (the shares would differ in size, and
            an empty share would leave the other ranks waiting in a collective).
    """
    if len(batch) % world:
        raise ValueError(f"a batch of {len(batch)} pairs does not split evenly over {world} ranks")
    return list(batch[rank::world])
