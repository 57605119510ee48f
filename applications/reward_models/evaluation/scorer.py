"""The one evaluator: score a reward model on test pairs per source -> one ``metrics.json`` entry.

Training's end-of-run evaluation, the evaluate CLI, ``reproduce`` and RJS all call
:func:`evaluate_model`; :func:`source_metrics` is the per-source row of the schema
(``evaluation.schema``): :func:`metrics.summarize` plus ``mean_abs_margin``, or ``null`` metrics
with a ``nonfinite`` reason when the model produced NaN / infinite rewards.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.evaluation import metrics

__all__ = ["AVERAGED", "ModelEvaluation", "evaluate_model", "source_metrics"]

AVERAGED = ("accuracy", "ece", "brier", "log_loss")
"""Keys of ``entry["average"]``: unweighted means over the test sources."""
_SCALARS = ("accuracy", "ties", "ece", "ace", "mce", "brier", "log_loss", "mean_abs_margin")


@dataclass(frozen=True)
class ModelEvaluation:
    """One model's evaluation: the schema ``entry``, Δ per source and the over-length drops."""

    entry: dict[str, Any]
    diffs: dict[str, torch.Tensor]
    drops: DropReport = field(default_factory=DropReport)


def source_metrics(
    reward_diff: torch.Tensor,
    true_prob: torch.Tensor | None = None,
    bins: Sequence[int] = (5, 10, 20),
) -> dict[str, Any]:
    """Every metric of one test source (the schema's per-source row).

    Keys: :func:`metrics.summarize`'s (``n``, ``accuracy``, ``ties``, ``ece`` / ``ace`` / ``mce``
    at M = 10, ``brier``, ``log_loss``, ``calibration`` per M in ``bins``, ``calibration_mass``,
    ``reward_diff``, and ``truth`` when ``true_prob`` is given) plus ``mean_abs_margin`` = mean
    |Δ|. Non-finite Δ: ``n``, the scalar keys as ``None`` and
    ``nonfinite = {"count", "why"}`` (no metric of a diverged model is meaningful).
    """
    d = reward_diff.detach().double().flatten()
    bad = int((~torch.isfinite(d)).sum())
    if bad:
        row: dict[str, Any] = {"n": d.numel(), **{k: None for k in _SCALARS}}
        row["nonfinite"] = {
            "count": bad,
            "why": f"{bad} of {d.numel()} reward differences are NaN or infinite "
            "(a diverged model?); metrics not computed",
        }
        return row
    row = metrics.summarize(d, true_prob, bins=bins)
    row["mean_abs_margin"] = float(d.abs().mean())
    return row


def _average(rows: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in AVERAGED:
        vals = [float(r[key]) for r in rows if r.get(key) is not None]
        out[key] = statistics.fmean(vals) if vals else None
    return out


def _true_prob(pairs: Sequence[PreferencePair]) -> torch.Tensor | None:
    truth = [p.true_prob for p in pairs]
    return None if None in truth else torch.tensor(truth, dtype=torch.float64)


def evaluate_model(
    model: torch.nn.Module,
    tokenizer: Any,
    test: Mapping[str, Sequence[PreferencePair]],
    *,
    max_length: int,
    batch_size: int = 32,
    bins: Sequence[int] = (5, 10, 20),
    progress: bool = False,
) -> ModelEvaluation:
    """Score ``model`` on every source's test pairs; returns the schema entry and Δ per source.

    Δ = r(x, y_w) − r(x, y_l) per pair (:func:`modeling.scoring.score_pairs`, eval mode, the
    model's train/eval mode restored after). Pairs over ``max_length`` for this tokenizer are
    dropped and counted in ``entry["drops"]``; sources with no pair are skipped.

    Entry keys: ``sources`` ({source: :func:`source_metrics`}), ``pooled`` (all sources' Δ
    together, no truth), ``average`` (:data:`AVERAGED` means over sources), ``drops``.

    Raises:
        ValueError: every pair of a non-empty source exceeds ``max_length``.
    """
    from applications.reward_models.data.collate import filter_overlength
    from applications.reward_models.modeling.scoring import score_pairs

    was_training = model.training
    model.eval()
    drops = DropReport()
    rows: dict[str, Any] = {}
    diffs: dict[str, torch.Tensor] = {}
    for name, pairs in test.items():
        if not pairs:
            continue
        kept = filter_overlength(list(pairs), tokenizer, max_length, drops)
        if not kept:
            raise ValueError(f"every test pair of {name!r} exceeds max_length={max_length}")
        r_c, r_r = score_pairs(
            model, tokenizer, kept, batch_size=batch_size, max_length=max_length, progress=progress
        )
        diffs[name] = (r_c - r_r).double()
        rows[name] = source_metrics(diffs[name], _true_prob(kept), bins)
    model.train(was_training)
    pooled = source_metrics(torch.cat(list(diffs.values())), bins=bins) if diffs else None
    entry = {
        "sources": rows,
        "pooled": pooled,
        "average": _average(list(rows.values())),
        "drops": drops.to_dict(),
    }
    return ModelEvaluation(entry, diffs, drops)
