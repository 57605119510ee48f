"""From reward differences to the study's numbers: per-model metrics and paired comparisons.

Pure functions of :class:`~applications.reward_models.study.training.Scored` (no model):

* per scheme, seed and source: accuracy, ECE with its bootstrap interval over test pairs and its
  noise floor, ECE / ACE / MCE and noise floor at 5, 10 and 20 bins, the reliability bins, ECE
  after temperature scaling (T fit on the calibration pairs) with its noise floor, Brier, log
  loss, mean |Δ|, the paper's Table-1 statistics of Δ (:mod:`.table1`) and, on simulator data,
  the gold ECE (against ``true_prob``);
* per pair of schemes (``more`` − other), per source and over all sources pooled: paired
  hierarchical bootstrap intervals (seeds, then test pairs) of ΔECE and Δaccuracy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict

import numpy as np
import torch

from applications.reward_models.evaluation.metrics import (
    CalibrationResult,
    calibration_errors,
    preference_accuracy,
    truth_calibration,
)
from applications.reward_models.evaluation.temperature import temperature_scale
from applications.reward_models.evaluation.uncertainty import (
    ConfidenceInterval,
    bootstrap,
    noise_floor,
)
from applications.reward_models.study.table1 import table1_stats
from applications.reward_models.study.training import Scored

__all__ = [
    "ALL_SOURCES",
    "REPORTED_BINS",
    "compare",
    "comparison_pairs",
    "model_metrics",
    "reliability",
    "results",
]

ALL_SOURCES = "all"
"""Key of the pooled entry: every source's test pairs of a seed together."""

REPORTED_BINS = (5, 10, 20)
"""Bin counts M at which ECE and its noise floor are also reported (``ece_by_bins``)."""

Scores = Mapping[str, Sequence[Mapping[str, Scored]]]  # scheme -> seed index -> source -> Scored


def _ci(ci: ConfidenceInterval) -> dict[str, float]:
    return {"estimate": ci.estimate, "low": ci.low, "high": ci.high, "level": ci.level}


def _pooled(by_source: Mapping[str, Scored]) -> Scored:
    truth = [s.true_prob for s in by_source.values()]
    return Scored(
        test=np.concatenate([s.test for s in by_source.values()]),
        calibration=np.concatenate([s.calibration for s in by_source.values()]),
        true_prob=None if any(t is None for t in truth) else np.concatenate(truth),
    )


def _test(by_source: Mapping[str, Scored], source: str) -> np.ndarray:
    return _pooled(by_source).test if source == ALL_SOURCES else by_source[source].test


def reliability(cal: CalibrationResult) -> dict[str, list[float | None] | list[int]]:
    """Per equal-width bin: mean confidence, empirical accuracy (``None`` if empty), count.

    Over the 2N symmetrized points the ECE is computed on, so ``Σ count = 2N`` and
    ``Σ count·|confidence − accuracy| / 2N`` is the ECE.
    """

    def _null(v: list[float]) -> list[float | None]:
        return [None if math.isnan(x) else x for x in v]  # empty bin: JSON has no NaN

    return {
        "confidence": _null(cal.bin_confidence),
        "accuracy": _null(cal.bin_accuracy),
        "count": list(cal.bin_counts),
    }


def _by_bins(d: torch.Tensor, n_bins: int, n_sim: int, seed: int) -> dict[str, object]:
    """ECE and its noise floor at every reported M (and at ``n_bins``); ACE, MCE at ``n_bins``."""
    ms = sorted({*REPORTED_BINS, n_bins})
    cals = {m: calibration_errors(d, n_bins=m) for m in ms}
    floors = {str(m): asdict(noise_floor(d.numpy(), m, n_sim, seed)) for m in ms}
    return {
        "ece_by_bins": {str(m): c.ece for m, c in cals.items()},
        "noise_floor": floors[str(n_bins)],
        "noise_floor_by_bins": floors,
        "ace": cals[n_bins].ace,
        "mce": cals[n_bins].mce,
        "reliability": reliability(cals[n_bins]),
    }


def model_metrics(
    scored: Scored, n_bins: int = 10, n_boot: int = 1000, n_sim: int = 1000, seed: int = 0
) -> dict[str, object]:
    """Every per-model number of the study for one source (see the module docstring)."""
    d = torch.from_numpy(scored.test)
    cal = calibration_errors(d, n_bins=n_bins)
    scaled = temperature_scale(scored.calibration, scored.test, n_bins=n_bins)
    row: dict[str, object] = {
        "n": int(d.numel()),
        "accuracy": preference_accuracy(d).accuracy,
        "ece": cal.ece,
        "ece_ci": _ci(bootstrap([[scored.test]], n_bins, n_boot, seed).ece[0]),
        **_by_bins(d, n_bins, n_sim, seed),
        "ece_temperature_scaled": scaled.ece_scaled,
        "noise_floor_temperature_scaled": asdict(
            noise_floor(scored.test / scaled.temperature, n_bins, n_sim, seed)
        ),
        "temperature": scaled.temperature,
        "n_calibration": scaled.n_calibration,
        "brier": cal.brier,
        "log_loss": cal.log_loss,
        "mean_abs_diff": float(d.abs().mean()),
        "table1": table1_stats(scored.test).to_dict(),
    }
    if scored.true_prob is not None:
        row["gold_ece"] = truth_calibration(d, torch.from_numpy(scored.true_prob), n_bins).ece
    return row


def comparison_pairs(schemes: Sequence[str]) -> list[tuple[str, str]]:
    """``(more, other)`` for every other scheme (empty without ``more``)."""
    return [("more", s) for s in schemes if s != "more"] if "more" in schemes else []


def compare(
    scores: Scores, first: str, second: str, n_bins: int = 10, n_boot: int = 1000, seed: int = 0
) -> dict[str, dict[str, object]]:
    """``first − second`` per source and pooled: ΔECE and Δaccuracy intervals."""
    a, b = scores[first], scores[second]
    if len(a) != len(b):
        raise ValueError(f"{first} has {len(a)} seeds, {second} {len(b)}")
    out: dict[str, dict[str, object]] = {}
    sources = [*a[0], ALL_SOURCES]
    for source in sources:
        per_seed = [[_test(x, source), _test(y, source)] for x, y in zip(a, b, strict=True)]
        result = bootstrap(per_seed, n_bins, n_boot, seed)
        out[source] = {
            "delta_ece_ci": _ci(result.delta_ece[0]),
            "delta_accuracy_ci": _ci(result.delta_accuracy[0]),
            "n_seeds": result.n_seeds,
            "n_boot": result.n_boot,
        }
    return out


def results(
    scores: Scores, n_bins: int = 10, n_boot: int = 1000, n_sim: int = 1000, progress: bool = False
) -> dict[str, dict[str, dict[str, dict[str, object]]]]:
    """``results[scheme][seed][source]`` of :func:`model_metrics`, pooled sources included
    (``progress``: a bar over the trained models)."""
    from tqdm.auto import tqdm

    out: dict[str, dict[str, dict[str, dict[str, object]]]] = {}
    total = sum(len(seeds) for seeds in scores.values())
    with tqdm(total=total, desc="evaluating", unit="model", disable=not progress) as bar:
        for scheme, seeds in scores.items():
            out[scheme] = {}
            for seed, by_source in enumerate(seeds):
                rows = {
                    n: model_metrics(s, n_bins, n_boot, n_sim, seed) for n, s in by_source.items()
                }
                rows[ALL_SOURCES] = model_metrics(_pooled(by_source), n_bins, n_boot, n_sim, seed)
                out[scheme][str(seed)] = rows
                bar.update(1)
    return out
