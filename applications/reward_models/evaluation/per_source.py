"""End-of-run evaluation of a trained reward model on every source's test pairs, and the table."""

from __future__ import annotations

from typing import Any

import torch

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.evaluation.metrics import (
    calibration_errors,
    preference_accuracy,
    truth_calibration,
)
from applications.reward_models.modeling.scoring import score_pairs


def evaluate_sources(
    model: torch.nn.Module,
    tokenizer: Any,
    test: dict[str, list[PreferencePair]],
    *,
    max_length: int,
    batch_size: int,
) -> dict[str, dict[str, float]]:
    """Per-source accuracy, ECE (10 bins, both orderings), ACE, MCE, Brier, log loss.

    Simulator pairs (``true_prob`` set) also get ``truth_ece`` / ``truth_mae``: calibration of
    σ(Δ) against the gold shared-preference probability.
    """
    was_training = model.training
    model.eval()
    results: dict[str, dict[str, float]] = {}
    for name, pairs in test.items():
        if not pairs:
            continue
        r_c, r_r = score_pairs(
            model, tokenizer, pairs, batch_size=batch_size, max_length=max_length, progress=False
        )
        diff = (r_c - r_r).double()
        acc = preference_accuracy(diff)
        cal = calibration_errors(diff, n_bins=10)
        row = {
            "n": acc.n,
            "accuracy": acc.accuracy,
            "ties": acc.ties,
            "ece": cal.ece,
            "ace": cal.ace,
            "mce": cal.mce,
            "brier": cal.brier,
            "log_loss": cal.log_loss,
            "mean_abs_margin": float(diff.abs().mean()),
        }
        truth = [p.true_prob for p in pairs]
        if all(t is not None for t in truth):
            tc = truth_calibration(diff, torch.tensor(truth, dtype=torch.float64))
            row["truth_ece"] = tc.ece
            row["truth_mae"] = tc.mae
        results[name] = row
    model.train(was_training)
    return results


def comparison_table(metrics: dict[str, dict[str, dict[str, float]]]) -> str:
    """Side-by-side text table: one row per source, accuracy and ECE (and truth ECE) per scheme."""
    schemes = list(metrics)
    sources: list[str] = []
    for per_source in metrics.values():
        sources += [s for s in per_source if s not in sources]
    has_truth = any("truth_ece" in row for m in metrics.values() for row in m.values())
    cols = [("accuracy", "acc"), ("ece", "ECE")] + (
        [("truth_ece", "gold ECE")] if has_truth else []
    )
    header = ["source"] + [f"{s} {label}" for key, label in cols for s in schemes]
    rows = []
    for src in [*sources, "mean"]:
        row = [src]
        for key, _label in cols:
            for s in schemes:
                vals = (
                    [r[key] for r in metrics[s].values() if key in r]
                    if src == "mean"
                    else [metrics[s].get(src, {}).get(key)]
                )
                vals = [v for v in vals if v is not None]
                row.append(f"{sum(vals) / len(vals):.3f}" if vals else "-")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)
