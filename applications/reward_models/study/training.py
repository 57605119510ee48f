"""The study's finetune path: train a variant with the full trainer, score the pairs.

Everything the study needs from the transformer trainer is :func:`train_and_score`; when the
trainer's API changes, only this module changes. A study variant maps to a trainer scheme
(:func:`trainer_scheme`): an unweighted variant to ``multitask`` or ``balanced_uniform``, a
weighted one to ``more`` with the variant's :class:`~..sections.MoreConfig` (the same step,
:class:`~..training.step.MoreStep`), except that ``more_official``'s micro-batches become λ from
one pair per source (``lambda_pairs = 1``: one λ per step, not the average of 16 micro-batch
λ). The shared sections' options (model, scoring, optimizer) are passed on as they are.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import torch

from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.evaluation.temperature import fit_temperature
from applications.reward_models.sections import ModelConfig, MoreConfig, OptimConfig, ScoringConfig
from applications.reward_models.study.config import StudyConfig
from applications.reward_models.study.regime import RunResult
from applications.reward_models.study.splits import StudySplits
from applications.reward_models.study.variants import Variant

__all__ = ["train_and_score", "trainer_config", "trainer_scheme"]

SHARED_SECTIONS = (ModelConfig, ScoringConfig, OptimConfig)
"""The sections :class:`StudyConfig` and the trainer's config both compose (passed on)."""


def trainer_scheme(variant: Variant) -> tuple[str, MoreConfig]:
    """The trainer's scheme and MORE configuration for ``variant`` (module doc)."""
    if variant.more is None:
        return ("balanced_uniform" if variant.balanced else "multitask"), MoreConfig()
    if variant.micro_batches > 1:
        return "more", dataclasses.replace(variant.more, lambda_pairs=1)
    return "more", variant.more


def trainer_config(config: StudyConfig, variant: Variant, seed: int, names, **extra: Any):
    """The trainer's settings for ``variant`` with training ``seed``."""
    from applications.reward_models.training.config import TrainConfig

    shared = {f.name: getattr(config, f.name)
              for section in SHARED_SECTIONS for f in dataclasses.fields(section)}  # fmt: skip
    return TrainConfig(
        sources=[SourceSpec(name=n) for n in names],
        seed=seed,
        more=trainer_scheme(variant)[1],
        progress_bar=False,
        **shared,
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
    result = train_scheme(settings, trainer_scheme(variant)[0], source_data)
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
