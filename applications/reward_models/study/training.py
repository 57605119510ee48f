"""The study's finetune path: train a variant with the full trainer, score the pairs.

Everything the study needs from the transformer trainer is :func:`train_and_score`; when the
trainer's API changes (the shared step of ``training/step.py``), only this module changes.
A study variant maps to a trainer scheme (:data:`TRAINER_SCHEMES`): ``more_official`` becomes
``more`` with λ from one pair per source (``lambda_pairs = 1``: one λ per step, not the average
of 16 micro-batch λ), ``more_body`` ``more`` on the last block and the head; the family's
weightings have no trainer scheme yet and raise.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import torch

from applications.reward_models.evaluation.temperature import fit_temperature
from applications.reward_models.study.config import StudyConfig
from applications.reward_models.study.regime import RunResult
from applications.reward_models.study.splits import StudySplits
from applications.reward_models.study.variants import Variant

__all__ = ["TRAINER_SCHEMES", "train_and_score", "trainer_config"]

TRAINER_SCHEMES: dict[str, tuple[str, dict[str, Any]]] = {
    "multitask": ("multitask", {}),
    "balanced_uniform": ("balanced_uniform", {}),
    "more": ("more", {}),
    "more_official": ("more", {"lambda_pairs": 1}),
    "more_body": ("more", {"subspace": "last_blocks", "last_n_blocks": 1}),
}
"""Study variant → (trainer scheme, ``MoreConfig`` overrides)."""


def trainer_config(config: StudyConfig, variant: Variant, seed: int, names, **extra: Any):
    """The trainer's settings for ``variant`` with training ``seed``.

    Raises:
        ValueError: a variant without a trainer scheme (the family's weightings).
    """
    from applications.reward_models.training.config import MoreConfig, SourceConfig, TrainConfig

    if variant.name not in TRAINER_SCHEMES:
        raise ValueError(
            f"variant {variant.name!r} has no trainer scheme for --backbone finetune; "
            f"choose from {sorted(TRAINER_SCHEMES)}"
        )
    _, more = TRAINER_SCHEMES[variant.name]
    return TrainConfig(
        sources=[SourceConfig(name=n) for n in names],
        model=config.model,
        trainable_blocks=config.trainable_blocks,
        max_steps=config.max_steps,
        pairs_per_source=config.pairs_per_source,
        learning_rate=config.learning_rate,
        max_length=config.max_length,
        seed=seed,
        more=dataclasses.replace(MoreConfig(), **more),
        progress_bar=False,
        **extra,
    )


def _diffs(model: torch.nn.Module, tokenizer: object, pairs: list, config: StudyConfig):
    from applications.reward_models.modeling.scoring import score_pairs

    r_c, r_r = score_pairs(model, tokenizer, pairs, batch_size=config.eval_batch_size,
                           max_length=config.max_length, progress=config.progress)  # fmt: skip
    return (r_c - r_r).double().cpu().numpy()


def _logged_weights(log: list[dict], names: list[str]) -> np.ndarray:
    rows = [[row["lambda"].get(n, 0.0) for n in names] for row in log if row.get("lambda")]
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(names))


def train_and_score(
    config: StudyConfig, variant: Variant, seed: int, data: StudySplits, data_seed: int
) -> RunResult:
    """Train ``variant`` with ``seed`` on ``data.train`` (last ``trainable_blocks`` blocks);
    score test and calibration pairs, fit T on the calibration half. λ comes from the trainer's
    log; no curve, no gradient cosine or rank (NaN)."""
    from applications.reward_models.data.splits import SourceData
    from applications.reward_models.modeling.reward_model import load_reward_model
    from applications.reward_models.training.trainer import train_scheme

    run_dir = os.path.join(config.output_dir, "runs", f"data{data_seed}", variant.name,
                           f"seed{seed}")  # fmt: skip
    settings = trainer_config(config, variant, seed, data.names, output_dir=run_dir,
                              logging_steps=1)  # fmt: skip
    # Empty test lists: the trainer's own end-of-run evaluation is skipped; we score below.
    source_data = SourceData(train=data.train, test={n: [] for n in data.names})
    result = train_scheme(settings, TRAINER_SCHEMES[variant.name][0], source_data)
    model, tokenizer = load_reward_model(os.path.join(result.run_dir, "final"))
    model.eval()
    test = {n: _diffs(model, tokenizer, data.test[n], config) for n in data.names}
    cal = {n: _diffs(model, tokenizer, data.calibration[n], config) for n in data.names}
    weights = _logged_weights(result.log, data.names)
    if not len(weights):
        weights = np.full((config.max_steps, len(data.names)), 1.0 / len(data.names))
    nan = np.full(len(weights), np.nan)
    return RunResult(test, cal, fit_temperature(np.concatenate(list(cal.values()))), [],
                     weights, nan, nan)  # fmt: skip
