"""The ``study.json`` dict: metrics with intervals, judged comparisons, the validity gate, logs.

Pure functions of the trained runs' numbers (no model). Every metric is lower-is-better
(``error`` = 1 − accuracy), so every comparison ``first − second`` < 0 favours ``first``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from applications.reward_models.evaluation.uncertainty import noise_floor
from applications.reward_models.study.crossed import Panel, Replicates
from applications.reward_models.study.regime import RunResult
from applications.reward_models.study.scored import STARVED
from applications.reward_models.study.verdicts import basic_interval, judge

__all__ = ["JUDGED_METRICS", "comparisons", "gate", "logs", "metric_intervals", "noise_floors"]

JUDGED_METRICS = ("ece", "ece_pooled", "ece_scaled", "gold_ece", "nll", "error")
"""``ece`` (mean of per-source ECE) is the headline; the others are secondary outcomes."""


def _with_error(reps: Replicates) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    est, rep = dict(reps.estimate), dict(reps.replicates)
    est["error"], rep["error"] = 1 - est.pop("accuracy"), 1 - rep.pop("accuracy")
    return est, rep


def metric_intervals(
    reps: Replicates, variants: Sequence[str], level: float
) -> dict[str, dict[str, Any]]:
    """``[metric][variant]``: the basic interval of each variant's metric."""
    est, rep = _with_error(reps)
    return {m: {v: basic_interval(est[m][i], rep[m][:, i], level).to_dict()
                for i, v in enumerate(variants)} for m in est}  # fmt: skip


def comparisons(
    reps: Replicates,
    variants: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    primary: Sequence[tuple[str, str]],
    *,
    alpha: float,
    margin: float,
) -> dict[str, dict[str, Any]]:
    """``[metric]["first - second"]``: interval, Holm p (secondary) and verdict."""
    est, rep = _with_error(reps)
    index = {v: i for i, v in enumerate(variants)}
    primary_names = [f"{a} - {b}" for a, b in primary]
    out = {}
    for metric in JUDGED_METRICS:
        if metric not in est:
            continue
        deltas = {f"{a} - {b}": (est[metric][index[a]] - est[metric][index[b]],
                                 rep[metric][:, index[a]] - rep[metric][:, index[b]])
                  for a, b in pairs}  # fmt: skip
        out[metric] = judge(deltas, primary_names, alpha=alpha, margin=margin)
    return out


def noise_floors(panel: Panel, n_bins: int, n_sim: int) -> dict[str, float]:
    """Per variant: the mean over data seeds, seeds and sources of the per-source noise floor
    (the ECE a perfectly calibrated model with the same predictions would score)."""
    out = {}
    for i, v in enumerate(panel.variants):
        floors = [
            noise_floor(x[i, t], n_bins, n_sim, seed=t).mean
            for by_source in panel.diffs
            for x in by_source
            for t in range(x.shape[1])
        ]
        out[v] = float(np.mean(floors))  # fmt: skip
    return out


def gate(
    estimate_ece: float, floor: float, temperatures: np.ndarray, min_t: float, ratio: float
) -> dict[str, Any]:
    """The validity gate: MultiTask over-confident (mean T > ``min_t``) and mis-calibrated
    beyond the noise (ECE ≥ ``ratio`` × floor); else the study cannot show a calibration gain
    and every verdict reads "uninformative"."""
    t = float(np.mean(temperatures))
    informative = t > min_t and estimate_ece >= ratio * floor
    text = (
        f"validity gate: MultiTask T = {t:.2f} (needs > {min_t}), ECE = {estimate_ece:.4f} vs "
        f"{ratio:g} x noise floor {floor:.4f} = {ratio * floor:.4f}: "
        + ("informative" if informative else "UNINFORMATIVE (no verdict on calibration gains)")
    )
    return {"multitask_temperature": t, "multitask_ece": estimate_ece, "noise_floor": floor,
            "min_temperature": min_t, "floor_ratio": ratio, "informative": informative,
            "text": text}  # fmt: skip


def logs(runs: Sequence[Mapping[str, Sequence[RunResult]]], sources: Sequence[str], every: int):
    """Per variant: λ statistics, starvation share, head-gradient cosine and effective rank
    (means over runs; ``series``: every ``every``-th step, mean over runs)."""
    out: dict[str, Any] = {}
    for v in runs[0]:
        rs = [r for by_variant in runs for r in by_variant[v]]
        lam = np.stack([r.weights for r in rs])  # [runs, steps, K]
        cos = np.stack([r.cosine for r in rs])
        rank = np.stack([r.effective_rank for r in rs])
        starved = (lam < STARVED).mean(axis=2)  # share of sources starved, per step
        out[v] = {
            "lambda_mean": dict(zip(sources, lam.mean((0, 1)).tolist(), strict=True)),
            "lambda_sd_over_steps": dict(zip(sources, lam.std(1).mean(0).tolist(), strict=True)),
            "starved_share": float(starved.mean()),
            "cosine_mean": _finite_mean(cos),
            "effective_rank_mean": _finite_mean(rank),
            "series": {
                "step": list(range(every, lam.shape[1] + 1, every)),
                "starved_share": starved.mean(0)[every - 1 :: every].tolist(),
                "cosine": [_finite_mean(c) for c in cos.T[every - 1 :: every]],
                "effective_rank": [_finite_mean(r) for r in rank.T[every - 1 :: every]],
            },
        }
    return out


def _finite_mean(values: np.ndarray) -> float | None:
    """Mean of the finite values (``None`` when none is: the finetune path logs no gradients)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(finite.mean()) if finite.size else None


def curves(runs: Sequence[Mapping[str, Sequence[RunResult]]]) -> dict[str, list[dict[str, float]]]:
    """Per variant: the calibration-slice curve, mean over runs, point by point."""
    out = {}
    for v in runs[0]:
        rs = [r.curve for by_variant in runs for r in by_variant[v] if r.curve]
        if not rs:
            continue
        out[v] = [{k: float(np.mean([c[i][k] for c in rs])) for k in rs[0][i]}
                  for i in range(len(rs[0]))]  # fmt: skip
    return out
