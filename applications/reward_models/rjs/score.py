"""Stage 2 — score every sample with one or more reward models.

Each RM writes ``scores/<rm name>.jsonl``, one object per prompt::

    {"prompt_id": 3, "scores": [0.41, -1.2, null, 0.07]}

``null`` marks a response that cannot be encoded within ``max_length`` (the shared truncation policy
of ``applications.reward_models.data.collate.encode_prompt_response`` returned ``None``); such
responses are counted in :class:`ScoreStats` and never selected. The text format is exactly the one
used in RM training, so the RM sees samples as it saw preference pairs. Resuming skips prompt ids
already scored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from applications.reward_models.files import append_jsonl, read_jsonl, repair_jsonl
from applications.reward_models.modeling.scoring import score_token_sequences, tokenizer_padding

EncodeFn = Callable[[Any, str, str, int], "list[int] | None"]


def _encode_all(
    tokenizer: Any, prompts: Sequence[str], responses: Sequence[str], max_length: int
) -> list[list[int] | None]:
    """The training-time encoding (``data.collate.encode_many``: batched
    ``encode_prompt_response``), so the RM sees samples exactly as it saw preference pairs."""
    from applications.reward_models.data.collate import encode_many

    return encode_many(tokenizer, prompts, responses, max_length)


@dataclass
class ScoreStats:
    """Counts of one scoring run for one RM."""

    prompts_skipped: int = 0
    prompts_scored: int = 0
    responses_scored: int = 0
    responses_unencodable: int = 0
    truncated_lines_dropped: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def score_texts(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    responses: Sequence[str],
    batch_size: int = 32,
    max_length: int = 512,
    encode: EncodeFn | None = None,
) -> list[float | None]:
    """Rewards ``r(prompt_i, response_i)``; ``None`` where the pair cannot be encoded.

    ``encode`` (per pair; default: the batched training-time encoder) maps a pair to token ids or
    ``None``. The encodable sequences are scored by
    :func:`applications.reward_models.modeling.scoring.score_token_sequences` (length-bucketed
    batches, padding on ``tokenizer.padding_side``, inference mode), the same path as RM evaluation.

    Raises:
        ValueError: ``prompts`` and ``responses`` differ in length, the tokenizer has no pad
            token, or the model does not output one logit per sequence.
    """
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    if encode is None:
        encoded = _encode_all(tokenizer, prompts, responses, max_length)
    else:
        encoded = [
            encode(tokenizer, p, r, max_length) for p, r in zip(prompts, responses, strict=True)
        ]
    kept = [i for i, e in enumerate(encoded) if e is not None]
    pad_token_id, left_padding = tokenizer_padding(tokenizer)
    rewards = score_token_sequences(
        model,
        [encoded[i] for i in kept],  # type: ignore[misc]
        pad_token_id=pad_token_id,
        left_padding=left_padding,
        batch_size=batch_size,
        max_length=max_length,
    ).tolist()
    out: list[float | None] = [None] * len(encoded)
    for i, value in zip(kept, rewards, strict=True):
        out[i] = value
    return out


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
