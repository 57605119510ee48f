"""Train a reward head on cached features with a training scheme (the study's frozen backbone).

The step is the trainer's (:class:`~applications.reward_models.training.trainer.RewardModelTrainer`)
with the backbone frozen and dropout off: the scheme's sampler draws K × m pairs, the head maps
the cached features to Δ = head(z_w) − head(z_l), the scheme turns the per-source
Bradley–Terry losses into the loss (MORE: min-norm λ on the head's gradients), AdamW and the
trainer's learning-rate schedule update the head. The head starts as the trainer's does
(weights ~ N(0, 0.02²), bias 0, seeded by the training seed).

Besides the scores, a run records what the issue of starved sources needs, per step:

* λ_t (pair-mean schemes: the share of the batch's pairs of each source, the weight their
  mean loss gives that source's L_i);
* the gradient share λ_i‖g_i‖ / Σ_j λ_j‖g_j‖ with g_i = ∂L_i/∂w = mean_j −(1−σ(Δ_j))(z_w,j −
  z_l,j) (the bias gradient cancels): how much of the update each source drives;

and a curve point every ``eval_every`` steps on a fixed subset of the test pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.study.features import FeatureTable
from applications.reward_models.study.scored import Scored, curve_point
from applications.reward_models.training.config import TrainConfig

__all__ = ["HeadRun", "RewardHead", "train_head"]


class RewardHead(nn.Module):
    """``r = w · z + b``: the reward head alone, on cached features."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.score = nn.Linear(width, 1)
        nn.init.normal_(self.score.weight, std=0.02)
        nn.init.zeros_(self.score.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.score(z).squeeze(-1)


@dataclass(frozen=True)
class HeadRun:
    """One trained head: scores per source, the curve, per-step λ and gradient shares."""

    scored: dict[str, Scored]
    curve: list[dict[str, float | None]]
    weights: np.ndarray
    grad_shares: np.ndarray | None


def _margins(head: RewardHead, table: FeatureTable, pairs: Sequence[PreferencePair]):
    z_w, z_l = table.pairs(pairs)
    return head(z_w) - head(z_l), z_w - z_l


def _grad_shares(margins, dz, ids: torch.Tensor, weights: torch.Tensor, k: int) -> torch.Tensor:
    coef = -(1 - torch.sigmoid(margins.detach()))[:, None] * dz
    norms = torch.stack(
        [
            coef[ids == i].mean(0).norm() if (ids == i).any() else coef.new_zeros(())
            for i in range(k)
        ]
    )
    drive = weights * norms
    return drive / drive.sum().clamp_min(1e-30)


def _score(head: RewardHead, table: FeatureTable, pairs: Sequence[PreferencePair]) -> np.ndarray:
    with torch.no_grad():
        return _margins(head, table, pairs)[0].double().numpy()


def _scored(head: RewardHead, table: FeatureTable, splits) -> dict[str, Scored]:
    out = {}
    for name in splits.names:
        truth = [p.true_prob for p in splits.test[name]]
        out[name] = Scored(
            test=_score(head, table, splits.test[name]),
            calibration=_score(head, table, splits.calibration[name]),
            true_prob=None if None in truth else np.asarray(truth, dtype=np.float64),
        )
    return out


def train_head(
    config: TrainConfig,
    scheme,
    table: FeatureTable,
    splits,
    curve_pairs: Mapping[str, Sequence[PreferencePair]],
    eval_every: int,
    progress=None,
) -> HeadRun:
    """Train ``scheme`` with ``config`` (seed, steps, m, lr, MORE options) on ``splits.train``."""
    from transformers import get_scheduler

    from applications.reward_models.training.trainer import make_optimizer

    names = list(splits.names)
    torch.manual_seed(config.seed)
    head = RewardHead(table.width)
    sampler = scheme.sampler(config, splits.train)
    weighting = scheme.weighting(config, head, len(names))
    optimizer = make_optimizer(config, head)
    scheduler = get_scheduler(
        config.lr_scheduler_type,
        optimizer,
        num_warmup_steps=math.ceil(config.warmup_ratio * config.max_steps),
        num_training_steps=config.max_steps,
    )
    curve_set = [p for pairs in curve_pairs.values() for p in pairs]
    stream = _stream(sampler)
    index = {n: i for i, n in enumerate(names)}
    weights, shares, curve = [], [], []
    for step in range(1, config.max_steps + 1):
        pairs = next(stream)
        margins, dz = _margins(head, table, pairs)
        ids = torch.tensor([index[p.source] for p in pairs])
        out = scheme.loss(margins, [p.source for p in pairs], names, weighting)
        out.loss.backward()
        if config.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(head.parameters(), config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        lam = (
            out.weights
            if out.weights is not None
            else torch.bincount(ids, minlength=len(names)) / len(pairs)
        )
        weights.append(lam.float())
        shares.append(_grad_shares(margins, dz, ids, lam.float(), len(names)))
        if curve_set and (step % eval_every == 0 or step == config.max_steps):
            curve.append(curve_point(step, _score(head, table, curve_set), curve_set))
        if progress is not None:
            progress.update(1)
    return HeadRun(
        _scored(head, table, splits),
        curve,
        torch.stack(weights).numpy(),
        torch.stack(shares).numpy(),
    )


def _stream(sampler):
    while True:
        yield from sampler
