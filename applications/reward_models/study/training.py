"""The study's only coupling to the trainer: train one scheme with one seed, score the pairs.

Everything the study needs from training is :func:`train_and_score`; when the trainer's API
changes, only this function changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from applications.reward_models.study.config import StudyConfig
from applications.reward_models.study.splits import StudySplits

__all__ = ["Scored", "train_and_score"]


@dataclass(frozen=True)
class Scored:
    """Reward differences chosen − rejected of one trained model on one source's pairs."""

    test: np.ndarray
    calibration: np.ndarray
    true_prob: np.ndarray | None


def _diffs(model: torch.nn.Module, tokenizer: object, pairs: list, config: StudyConfig):
    from applications.reward_models.modeling.scoring import score_pairs

    r_c, r_r = score_pairs(
        model, tokenizer, pairs, batch_size=64, max_length=config.max_length, progress=False
    )
    return (r_c - r_r).double().cpu().numpy()


def _check_fits(data: StudySplits, tokenizer: object, max_length: int) -> None:
    """Raise if a pair would be dropped as over-length (the study keeps every pair)."""
    from applications.reward_models.data.collate import filter_overlength
    from applications.reward_models.data.schema import DropReport

    drops = DropReport()
    for split in (data.train, data.calibration, data.test):
        for pairs in split.values():
            filter_overlength(pairs, tokenizer, max_length, drops)
    if drops.counts:
        raise ValueError(f"pairs longer than max_length={max_length}: {drops.summary()}")


def train_and_score(
    config: StudyConfig, scheme: str, seed: int, data: StudySplits
) -> dict[str, Scored]:
    """Train ``scheme`` with ``seed`` on ``data.train``; score test and calibration pairs."""
    from applications.reward_models.data.splits import SourceData
    from applications.reward_models.modeling.reward_model import load_reward_model, load_tokenizer
    from applications.reward_models.training.config import SourceConfig, TrainConfig
    from applications.reward_models.training.trainer import train_scheme

    _check_fits(data, load_tokenizer(config.model), config.max_length)
    train_config = TrainConfig(
        sources=[SourceConfig(name=n) for n in data.names],
        model=config.model,
        trainable_blocks=config.trainable_blocks,
        max_steps=config.max_steps,
        pairs_per_source=config.pairs_per_source,
        learning_rate=config.learning_rate,
        max_length=config.max_length,
        seed=seed,
        output_dir=os.path.join(config.output_dir, "runs", f"seed{seed}"),
        progress_bar=False,
        logging_steps=max(1, config.max_steps // 10),
    )
    # Empty test lists: the trainer's own end-of-run evaluation is skipped; we score below.
    source_data = SourceData(train=data.train, test={n: [] for n in data.names})
    result = train_scheme(train_config, scheme, source_data)
    model, tokenizer = load_reward_model(os.path.join(result.run_dir, "final"))
    model.eval()
    out = {}
    with torch.no_grad():
        for name in data.names:
            truth = [p.true_prob for p in data.test[name]]
            out[name] = Scored(
                test=_diffs(model, tokenizer, data.test[name], config),
                calibration=_diffs(model, tokenizer, data.calibration[name], config),
                true_prob=None if None in truth else np.asarray(truth, dtype=np.float64),
            )
    return out
