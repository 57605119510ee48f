"""Evaluation helpers: the RM's ECE for the report and held-out data for perplexity.

ECE is read from the RM's training ``metrics.json`` when present (``<scheme>/metrics.json`` next to
``<scheme>/final``, or inside the checkpoint directory), else computed on test pairs with
``applications.reward_models.evaluation.metrics.calibration_errors`` (symmetrized points, 10
equal-width bins).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_AGGREGATES = ("overall", "all", "pooled", "mean")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def find_ece(metrics: Any) -> tuple[float, str] | None:
    """The RM-level ECE in a metrics dictionary and where it came from, or ``None``.

    In order: ``metrics["ece"]``; ``metrics["test"]["ece"]``; ``metrics["test"][agg]["ece"]`` for
    ``agg`` in overall / all / pooled / mean; else the training CLI's per-source layout
    ``metrics["test"][source]["ece"]``, reduced to the **unweighted mean over sources** (the "mean"
    row of the training comparison table).
    """
    if not isinstance(metrics, dict):
        return None
    if (v := _number(metrics.get("ece"))) is not None:
        return v, "ece"
    test = metrics.get("test")
    if not isinstance(test, dict):
        return None
    if (v := _number(test.get("ece"))) is not None:
        return v, "test.ece"
    for agg in _AGGREGATES:
        if isinstance(test.get(agg), dict) and (v := _number(test[agg].get("ece"))) is not None:
            return v, f"test.{agg}.ece"
    per_source = {
        name: _number(row.get("ece")) for name, row in test.items() if isinstance(row, dict)
    }
    values = [v for v in per_source.values() if v is not None]
    if not values:
        return None
    return sum(values) / len(values), f"mean over sources {sorted(per_source)} of test.<source>.ece"


def read_rm_ece(rm_dir: str | Path) -> tuple[float, str] | None:
    """ECE from ``<rm_dir>/metrics.json`` or ``<rm_dir>/../metrics.json`` (first found).

    Returns ``(ece, "<file>: <key>")``, or ``None`` when neither holds an ECE.
    """
    rm_dir = Path(rm_dir)
    for candidate in (rm_dir / "metrics.json", rm_dir.parent / "metrics.json"):
        if candidate.is_file():
            try:
                ece = find_ece(json.loads(candidate.read_text()))
            except json.JSONDecodeError as err:
                raise ValueError(f"{candidate}:{err.lineno}: malformed metrics.json") from err
            if ece is not None:
                return ece[0], f"{candidate}: {ece[1]}"
    return None


def compute_rm_ece(
    model: Any,
    tokenizer: Any,
    pairs_by_source: dict[str, Sequence[Any]],
    n_bins: int = 10,
    max_length: int = 512,
) -> tuple[float, dict[str, float], int]:
    """ECE of an RM on test pairs, per source and as the unweighted mean over sources (the same
    reduction :func:`find_ece` applies to a training ``metrics.json``).

    Per source: ``calibration_errors(r_chosen − r_rejected, n_bins).ece``. Pairs whose chosen or
    rejected response cannot be encoded within ``max_length`` are skipped and counted.

    Returns:
        ``(mean ECE, {source: ECE}, number of pairs skipped)``.

    Raises:
        ValueError: no pair of any source can be scored.
    """
    import torch

    from applications.reward_models.evaluation.metrics import calibration_errors
    from applications.reward_models.rjs.score import score_texts

    per_source: dict[str, float] = {}
    skipped = 0
    for source, pairs in pairs_by_source.items():
        prompts = [p.prompt for p in pairs] * 2
        responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
        scores = score_texts(model, tokenizer, prompts, responses, max_length=max_length)
        n = len(pairs)
        diffs = [
            c - r
            for c, r in zip(scores[:n], scores[n:], strict=True)
            if c is not None and r is not None
        ]
        skipped += n - len(diffs)
        if diffs:
            per_source[source] = calibration_errors(torch.tensor(diffs), n_bins=n_bins).ece
    if not per_source:
        raise ValueError("no test pair could be scored for the ECE")
    return sum(per_source.values()) / len(per_source), per_source, skipped
