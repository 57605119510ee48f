"""Stage 1 — sample ``n`` responses per prompt and append them to ``samples.jsonl`` as they come.

File format (one JSON object per prompt)::

    {"prompt_id": 3, "prompt": "...", "samples": [{"index": 0, "response": "...",
     "num_tokens": 41, "finished": true}, ...]}

plus ``samples.meta.json`` holding the generation settings. Resuming skips prompt ids already in the
file (checking their text matches), drops a truncated last line (counted in the returned stats), and
refuses to mix settings: a run with different ``n`` / sampling settings / policy needs a new file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from applications.reward_models.files import (
    append_jsonl,
    read_jsonl,
    repair_jsonl,
    write_json_atomic,
)
from applications.reward_models.rjs.generation import (
    Generation,
    GenerationConfig,
    generate,
    row_seed,
)
from applications.reward_models.rjs.policy import encode_prompt
from applications.reward_models.rjs.records import Record

GenerateFn = Callable[[Sequence[str], Sequence[int]], list[Generation]]


@dataclass
class SampleStats(Record):
    """What a sampling run did: prompts already present, newly sampled, truncated lines dropped."""

    prompts_total: int = 0
    prompts_skipped: int = 0
    prompts_sampled: int = 0
    truncated_lines_dropped: int = 0
    unfinished_responses: int = 0


def load_samples(path: str | Path) -> dict[int, dict[str, Any]]:
    """``prompt_id → record`` from a samples file (a truncated last line is ignored).

    Raises:
        ValueError: a prompt id appears twice, or a record lacks required fields.
    """
    out: dict[int, dict[str, Any]] = {}
    for line, rec in enumerate(read_jsonl(path).records, start=1):
        if not {"prompt_id", "prompt", "samples"} <= rec.keys():
            raise ValueError(f"{path}: record {line} lacks prompt_id/prompt/samples")
        pid = int(rec["prompt_id"])
        if pid in out:
            raise ValueError(f"{path}: record {line} repeats prompt_id {pid}")
        out[pid] = rec
    return out


def _check_meta(meta_path: Path, meta: dict[str, Any]) -> None:
    if meta_path.exists():
        old = json.loads(meta_path.read_text(encoding="utf-8"))
        if old != meta:
            raise ValueError(
                f"{meta_path}: existing samples were made with {old}, this run asks for {meta}; "
                "use a new output directory"
            )
    else:
        write_json_atomic(meta_path, meta)


def _record(prompt_id: int, prompt: str, row: Sequence[Generation]) -> dict[str, Any]:
    """The ``samples.jsonl`` object of one prompt (module docstring)."""
    samples = [
        {"index": j, "response": g.response, "num_tokens": g.num_tokens, "finished": g.finished}
        for j, g in enumerate(row)
    ]
    return {"prompt_id": prompt_id, "prompt": prompt, "samples": samples}


def sample_prompts(
    prompts: Sequence[str],
    out_path: str | Path,
    generate_fn: GenerateFn,
    n: int = 4,
    seed: int = 0,
    rows_per_batch: int = 32,
    meta: dict[str, Any] | None = None,
    length_fn: Callable[[str], int] = len,
    log: Callable[[str], None] = lambda _: None,
) -> SampleStats:
    """Sample ``n`` responses for every prompt not yet in ``out_path`` and append them.

    Prompts are sorted by ``length_fn`` (shortest first, to limit padding) and grouped into batches
    of ``max(1, rows_per_batch // n)`` prompts; each batch is one atomic append. Row seeds come from
    :func:`~applications.reward_models.rjs.generation.row_seed` so order and batching do not matter.

    Args:
        prompts: prompt ``i`` gets ``prompt_id = i``.
        generate_fn: ``(texts, seeds) -> generations`` (one per row).
        meta: settings stored in ``<out>.meta.json`` and checked on resume.

    Raises:
        ValueError: ``n < 1``, or the existing file was made from other prompts or settings.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out_path = Path(out_path)
    meta = {"n": n, "seed": seed, **(meta or {})}
    _check_meta(out_path.with_name(out_path.stem + ".meta.json"), meta)
    stats = SampleStats(prompts_total=len(prompts))
    stats.truncated_lines_dropped = repair_jsonl(out_path)
    done = load_samples(out_path)
    for pid, rec in done.items():
        if pid >= len(prompts) or prompts[pid] != rec["prompt"]:
            raise ValueError(f"{out_path}: prompt_id {pid} holds a different prompt than this run")
    stats.prompts_skipped = len(done)
    todo = sorted(
        (i for i in range(len(prompts)) if i not in done), key=lambda i: length_fn(prompts[i])
    )
    per_batch = max(1, rows_per_batch // n)
    for start in range(0, len(todo), per_batch):
        ids = todo[start : start + per_batch]
        texts = [prompts[i] for i in ids for _ in range(n)]
        seeds = [row_seed(seed, prompts[i], j) for i in ids for j in range(n)]
        gens = generate_fn(texts, seeds)
        if len(gens) != len(texts):
            raise ValueError(f"generate_fn returned {len(gens)} generations for {len(texts)} rows")
        records = [
            _record(pid, prompts[pid], gens[k * n : (k + 1) * n]) for k, pid in enumerate(ids)
        ]
        stats.unfinished_responses += sum(not g.finished for g in gens)
        append_jsonl(out_path, records)
        stats.prompts_sampled += len(ids)
        log(f"sampled {stats.prompts_skipped + stats.prompts_sampled}/{len(prompts)} prompts")
    return stats


def policy_sampler(model: Any, tokenizer: Any, config: GenerationConfig) -> GenerateFn:
    """Bind a policy to :func:`~applications.reward_models.rjs.generation.generate`."""

    def run(texts: Sequence[str], seeds: Sequence[int]) -> list[Generation]:
        return generate(model, tokenizer, texts, seeds, config)

    return run


def prompt_token_length(tokenizer: Any) -> Callable[[str], int]:
    """Length of the formatted prompt in tokens (the sort key that minimizes padding)."""

    def length(prompt: str) -> int:
        return len(encode_prompt(tokenizer, prompt))

    return length
