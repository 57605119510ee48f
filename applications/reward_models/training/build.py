"""The pieces one scheme's run trains: the reward model, its optimizer and its LR schedule."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from transformers import get_scheduler

from applications.reward_models.modeling.reward_model import freeze_below, load_reward_model
from applications.reward_models.training.config import TrainConfig

__all__ = ["build_model", "make_optimizer", "make_scheduler"]


def build_model(config: TrainConfig) -> tuple[nn.Module, Any]:
    """The reward model (frozen below ``trainable_blocks``, in train mode) and its tokenizer."""
    model, tokenizer = load_reward_model(
        config.model,
        config.pooling,
        dropout=config.dropout,
        trust_remote_code=config.trust_remote_code,
    )
    if config.trainable_blocks is not None:
        freeze_below(model, config.trainable_blocks)
    if config.gradient_checkpointing:
        enable = getattr(model, "activation_checkpointing_enable", None)  # transformers >= 5.x
        if enable is not None:
            enable()
        else:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
        model.config.use_cache = False
    model.train()
    return model, tokenizer


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases and normalization weights (1-D parameters)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        [g for g in groups if g["params"]],
        lr=config.learning_rate,
        betas=(config.adam_beta1, config.adam_beta2),
        eps=config.adam_epsilon,
    )


def make_scheduler(config: TrainConfig, optimizer: torch.optim.Optimizer) -> Any:
    """``config.lr_scheduler_type`` over ``max_steps``, warming up for ``warmup_ratio`` of them.

    The trainer steps it by hand once per optimizer step: accelerate's wrapper would step it
    once per process, which assumes a sharded dataloader (batches are sharded by the trainer).
    """
    return get_scheduler(
        config.lr_scheduler_type,
        optimizer,
        num_warmup_steps=math.ceil(config.warmup_ratio * config.max_steps),
        num_training_steps=config.max_steps,
    )
