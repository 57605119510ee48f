"""Stage 2 — score every sample with one or more reward models.

Each RM writes ``scores/<rm name>.jsonl``, one object per prompt::

    {"prompt_id": 3, "scores": [0.41, -1.2, null, 0.07]}

``null`` marks a response that cannot be encoded within ``max_length`` (the shared truncation policy
of ``applications.reward_models.data.collate.encode_prompt_response`` returned ``None``); such
responses are counted in :class:`ScoreStats` and never selected. The text format is exactly the one
used in RM training, so the RM sees samples as it saw preference pairs. Resuming skips prompt ids
already scored. The scorer itself is the application's one,
:func:`applications.reward_models.modeling.scoring.score_texts`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from applications.reward_models.files import append_jsonl, read_jsonl, repair_jsonl
from applications.reward_models.rjs.records import Record

__all__ = ["ScoreStats", "load_scores", "score_samples"]


@dataclass
class ScoreStats(Record):
    """Counts of one scoring run for one RM."""

    prompts_skipped: int = 0
    prompts_scored: int = 0
    responses_scored: int = 0
    responses_unencodable: int = 0
    truncated_lines_dropped: int = 0


def load_scores(path: str | Path) -> dict[int, list[float | None]]:
    """``prompt_id → per-sample scores`` from a scores file (a truncated last line is ignored)."""
    return {int(r["prompt_id"]): list(r["scores"]) for r in read_jsonl(path).records}


def score_samples(
    samples: dict[int, dict[str, Any]],
    out_path: str | Path,
    score_fn: Callable[[Sequence[str], Sequence[str]], list[float | None]],
    prompts_per_chunk: int = 64,
) -> ScoreStats:
    """Score every sample of every prompt not yet in ``out_path``, appending per chunk of prompts.

    Args:
        samples: ``prompt_id → samples record``
            (:func:`~applications.reward_models.rjs.sample.load_samples`).
        score_fn: ``(prompts, responses) -> scores`` (e.g. :func:`score_texts` bound to an RM).
    """
    stats = ScoreStats(truncated_lines_dropped=repair_jsonl(out_path))
    done = load_scores(out_path)
    todo = [pid for pid in sorted(samples) if pid not in done]
    stats.prompts_skipped = len(samples) - len(todo)
    for start in range(0, len(todo), prompts_per_chunk):
        chunk = todo[start : start + prompts_per_chunk]
        prompts = [samples[pid]["prompt"] for pid in chunk for _ in samples[pid]["samples"]]
        responses = [s["response"] for pid in chunk for s in samples[pid]["samples"]]
        scores = score_fn(prompts, responses)
        records, k = [], 0
        for pid in chunk:
            n = len(samples[pid]["samples"])
            records.append({"prompt_id": pid, "scores": scores[k : k + n]})
            k += n
        append_jsonl(out_path, records)
        stats.prompts_scored += len(chunk)
        stats.responses_scored += sum(s is not None for s in scores)
        stats.responses_unencodable += sum(s is None for s in scores)
    return stats
