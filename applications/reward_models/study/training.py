"""The study's finetune path: train a variant with the full trainer, score the pairs.

Everything the study needs from the transformer trainer is :func:`train_and_score`; when the
trainer's API changes, only this function changes. (The default, ``backbone=frozen``, trains
heads on cached features instead: :mod:`.head`.)
"""

from __future__ import annotations

import os

import numpy as np
import torch

from applications.reward_models.study.config import StudyConfig
from applications.reward_models.study.finetune_variants import Variant, train_config
from applications.reward_models.study.head import HeadRun
from applications.reward_models.study.scored import Scored
from applications.reward_models.study.splits import StudySplits

__all__ = ["Scored", "train_and_score"]


def _diffs(model: torch.nn.Module, tokenizer: object, pairs: list, config: StudyConfig):
    from applications.reward_models.modeling.scoring import score_pairs

    r_c, r_r = score_pairs(
        model,
        tokenizer,
        pairs,
        batch_size=config.eval_batch_size,
        max_length=config.max_length,
        progress=config.progress,
    )
    return (r_c - r_r).double().cpu().numpy()


def _logged_weights(log: list[dict], names: list[str]) -> np.ndarray:
    rows = [[row["lambda"].get(n, 0.0) for n in names] for row in log if row.get("lambda")]
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(names))


def train_and_score(config: StudyConfig, variant: Variant, seed: int, data: StudySplits) -> HeadRun:
    """Train ``variant`` with ``seed`` on ``data.train`` (last ``trainable_blocks`` blocks);
    score test and calibration pairs. λ comes from the trainer's log (every logging step); no
    curve and no gradient shares."""
    from applications.reward_models.data.splits import SourceData
    from applications.reward_models.modeling.reward_model import load_reward_model
    from applications.reward_models.training.trainer import train_scheme

    run_dir = os.path.join(config.output_dir, "runs", variant.name, f"seed{seed}")
    settings = train_config(config, variant, seed, data.names, output_dir=run_dir, logging_steps=1)
    # Empty test lists: the trainer's own end-of-run evaluation is skipped; we score below.
    source_data = SourceData(train=data.train, test={n: [] for n in data.names})
    result = train_scheme(settings, variant.scheme, source_data)
    model, tokenizer = load_reward_model(os.path.join(result.run_dir, "final"))
    model.eval()
    scored = {}
    for name in data.names:
        truth = [p.true_prob for p in data.test[name]]
        scored[name] = Scored(
            test=_diffs(model, tokenizer, data.test[name], config),
            calibration=_diffs(model, tokenizer, data.calibration[name], config),
            true_prob=None if None in truth else np.asarray(truth, dtype=np.float64),
        )
    return HeadRun(scored, [], _logged_weights(result.log, data.names), None)
