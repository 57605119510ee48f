"""Stage 3 — best-of-n selection (rejection sampling with the RM as the acceptance criterion).

For prompt ``x`` with samples ``y_1..y_n`` and rewards ``r_j = r(x, y_j)`` we keep
``y_{j*}``, ``j* = argmax_j r_j``. **Ties** go to the *smallest sample index* (the first sample to
reach the maximum), which makes the choice deterministic. Samples without a score (``None``, not
encodable by the RM) are never selected; a prompt with no scored sample is dropped and counted.

Statistics (over prompts with at least one score): ``mean_reward`` is the mean over all scored
samples (what a random pick gets in expectation), ``mean_best_reward`` the mean of the selected
maxima, ``best_minus_mean`` their difference (the best-of-n gain), ``max_reward`` the largest
reward.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from applications.reward_models.files import write_json_atomic, write_jsonl_atomic
from applications.reward_models.rjs.records import Record


def best_of_n(scores: Sequence[float | None]) -> int | None:
    """Index of the largest score, the smallest index among ties; ``None`` if no score is set.

    Raises:
        ValueError: a score is NaN (an RM bug that must not silently pick a sample).
    """
    best: int | None = None
    for j, s in enumerate(scores):
        if s is None:
            continue
        if math.isnan(s):
            raise ValueError(f"score of sample {j} is NaN")
        if best is None or s > scores[best]:  # strict '>' keeps the first index on ties
            best = j
    return best


@dataclass
class SelectStats(Record):
    """Best-of-n statistics (see module docstring)."""

    prompts: int = 0
    prompts_dropped_unscored: int = 0
    samples_unscored: int = 0
    ties_at_max: int = 0
    mean_reward: float = float("nan")
    mean_best_reward: float = float("nan")
    best_minus_mean: float = float("nan")
    max_reward: float = float("nan")


def select_best(
    samples: dict[int, dict[str, Any]], scores: dict[int, list[float | None]]
) -> tuple[list[dict[str, Any]], SelectStats]:
    """Pick the best sample of every scored prompt.

    Returns:
        ``(selected, stats)``; ``selected`` holds ``{"prompt_id", "prompt", "response",
        "sample_index", "score", "finished"}`` records in prompt-id order.

    Raises:
        ValueError: a prompt's score count differs from its sample count, or a sampled prompt has
            no scores at all (run the score stage first).
    """
    stats = SelectStats()
    selected: list[dict[str, Any]] = []
    all_scores: list[float] = []
    best_scores: list[float] = []
    for pid in sorted(samples):
        if pid not in scores:
            raise ValueError(f"prompt_id {pid} was sampled but not scored; run the score stage")
        rec, row = samples[pid], scores[pid]
        if len(row) != len(rec["samples"]):
            raise ValueError(
                f"prompt_id {pid}: {len(row)} scores for {len(rec['samples'])} samples"
            )
        stats.samples_unscored += sum(s is None for s in row)
        j = best_of_n(row)
        if j is None:
            stats.prompts_dropped_unscored += 1
            continue
        valid = [s for s in row if s is not None]
        stats.ties_at_max += int(sum(s == row[j] for s in valid) > 1)
        all_scores.extend(valid)
        best_scores.append(row[j])
        sample = rec["samples"][j]
        selected.append(
            {
                "prompt_id": pid,
                "prompt": rec["prompt"],
                "response": sample["response"],
                "sample_index": j,
                "score": row[j],
                # False when generation hit max_new_tokens: SFT then adds no EOS after it.
                "finished": bool(sample.get("finished", True)),
            }
        )
    stats.prompts = len(selected)
    if selected:
        stats.mean_reward = sum(all_scores) / len(all_scores)
        stats.mean_best_reward = sum(best_scores) / len(best_scores)
        stats.best_minus_mean = stats.mean_best_reward - stats.mean_reward
        stats.max_reward = max(best_scores)
    return selected, stats


def write_selection(
    selected: list[dict[str, Any]], stats: SelectStats, out_path: str | Path
) -> None:
    """Write ``<out>.jsonl`` (atomically; selection is cheap so it is recomputed, not resumed) and
    the statistics as ``<out stem>.stats.json``."""
    out_path = Path(out_path)
    write_jsonl_atomic(out_path, selected)
    write_json_atomic(out_path.with_name(out_path.stem + ".stats.json"), stats.to_dict())
