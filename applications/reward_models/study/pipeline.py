"""Train every variant for every training seed on every data seed; collect what the analysis needs.

For each data seed: the splits (:mod:`.splits`), the features of every text (encoded once,
cached: :mod:`.features`, standardized on the training texts), then every variant × training
seed (:func:`~.regime.train_variant`; ``backbone=finetune``: :func:`~.training.train_and_score`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from applications.reward_models.study.config import StudyConfig
from applications.reward_models.study.crossed import Panel
from applications.reward_models.study.regime import Regime, RunResult
from applications.reward_models.study.splits import StudySplits
from applications.reward_models.study.variants import Variant

__all__ = ["Trained", "panel_of", "regime_of", "train_all"]


@dataclass(frozen=True)
class Trained:
    """``runs[d][variant][seed]``, the splits of every data seed and the seconds spent encoding
    texts (loading the backbone included; 0 when every text was in the feature cache)."""

    runs: list[dict[str, list[RunResult]]]
    splits: list[StudySplits]
    variants: list[str]
    encoding_seconds: float = 0.0


def regime_of(config: StudyConfig) -> Regime:
    """The :class:`Regime` of ``config``."""
    return Regime(
        steps=config.max_steps,
        pairs_per_source=config.pairs_per_source,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        hidden=tuple(config.hidden),
        eval_every=config.eval_every,
        warmup_ratio=config.warmup_ratio,
        max_grad_norm=config.max_grad_norm,
        betas=(config.adam_beta1, config.adam_beta2),
        eps=config.adam_epsilon,
    )


def _features(config: StudyConfig, data: StudySplits):
    from applications.reward_models.study.features import encode_pairs

    everything = [p for split in (data.train, data.calibration, data.test)
                  for ps in split.values() for p in ps]  # fmt: skip
    cache = config.feature_cache or os.path.join(config.output_dir, "features.pt")
    os.makedirs(os.path.dirname(os.path.abspath(cache)), exist_ok=True)
    table = encode_pairs(everything, config.model, max_length=config.max_length,
                         batch_size=config.eval_batch_size, cache=cache, pooling=config.pooling,
                         progress=config.progress,
                         trust_remote_code=config.trust_remote_code)  # fmt: skip
    return table.standardized([p for ps in data.train.values() for p in ps])


def train_all(config: StudyConfig, variants: list[Variant], tokenizer) -> Trained:
    """Every run of the study (module doc)."""
    import time

    from tqdm.auto import tqdm

    from applications.reward_models.study.regime import train_variant
    from applications.reward_models.study.splits import load_study_splits

    regime = regime_of(config)
    runs, splits = [], []
    encoding = 0.0
    total = config.data_seeds * config.seeds * len(variants)
    with tqdm(total=total, desc="training", unit="model", disable=not config.progress) as bar:
        for d in range(config.data_seeds):
            data = load_study_splits(config, tokenizer, d)
            splits.append(data)
            start = time.perf_counter()
            table = _features(config, data) if config.backbone == "frozen" else None
            encoding += time.perf_counter() - start
            curve = {n: p[: config.curve_pairs] for n, p in data.calibration.items()}
            runs.append({v.name: [] for v in variants})
            for seed in range(config.seeds):
                for v in variants:
                    if table is None:
                        from applications.reward_models.study.training import train_and_score

                        run = train_and_score(config, v, seed, data, d)
                    else:
                        with _one_thread():
                            run = train_variant(v, regime, seed, table, data, curve)
                    runs[d][v.name].append(run)
                    bar.update(1)
    return Trained(runs, splits, [v.name for v in variants], encoding)


@contextmanager
def _one_thread():
    """The MLP's matrices are tiny: a second intra-op thread only adds synchronization (and,
    on a shared machine, waits for a core)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def panel_of(trained: Trained) -> Panel:
    """The :class:`~.crossed.Panel` of the test scores."""
    names = trained.variants
    diffs, temps, truth = [], [], []
    for d, by_variant in enumerate(trained.runs):
        sources = trained.splits[d].names
        diffs.append([np.stack([np.stack([r.test[s] for r in by_variant[v]]) for v in names])
                      for s in sources])  # fmt: skip
        temps.append(np.array([[r.temperature for r in by_variant[v]] for v in names]))
        truth.append([_truth(trained.splits[d].test[s]) for s in sources])
    return Panel(tuple(names), diffs, temps, truth)


def _truth(pairs) -> np.ndarray | None:
    t = [p.true_prob for p in pairs]
    return None if None in t else np.asarray(t, dtype=np.float64)
