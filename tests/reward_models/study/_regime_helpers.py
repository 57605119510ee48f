"""Shared by the study's regime tests and the every-entry-point MORE test (integrations)."""

from __future__ import annotations

import numpy as np
import torch

from applications.reward_models.sections import MoreConfig
from applications.reward_models.study.features import FeatureTable, _texts
from applications.reward_models.study.regime import Regime, train_variant
from applications.reward_models.study.splits import build_splits
from applications.reward_models.study.variants import Variant


def table_of(data) -> FeatureTable:
    """Seeded random features for every text of the splits ``data``."""
    everything = [p for s in (data.train, data.calibration, data.test) for ps in s.values()
                  for p in ps]  # fmt: skip
    texts = _texts(everything)
    g = torch.Generator().manual_seed(0)
    rows = {t: i for i, t in enumerate(texts)}
    return FeatureTable(torch.randn(len(texts), 16, generator=g), rows)


def study_lambda(**more) -> np.ndarray:
    """λ [steps, K] of 4 steps of the study's loop, balanced batches, ``MoreConfig(**more)``."""
    data = build_splits("classic", 0, 12, 16)
    regime = Regime(steps=4, pairs_per_source=4, hidden=(8, 8), eval_every=4)
    variant = Variant("probe", True, MoreConfig(**more))
    return train_variant(variant, regime, 0, table_of(data), data, {}).weights
