"""Batched, per-row seeded sampling from a causal LM.

Problem: draw ``y ~ π(· | x)`` for many prompts at once (left-padded batches) such that each row's
sample depends only on its own seed, not on which other rows share its batch — so a resumed or
re-batched run reproduces the same responses.

``transformers`` samples all rows from one global RNG, which ties a row's sample to the batch. We
instead pass :class:`SeededSampler` as a logits processor and decode greedily: at each step it
applies temperature, top-k and top-p (nucleus) filtering to row ``i``'s logits, draws
``u_i ~ U[0, 1)`` from row ``i``'s own ``torch.Generator`` and picks the token by inverse-CDF,
``argmin_v { Σ_{v' ≤ v} p_i(v') > u_i · Σ_v p_i(v) }``; every other logit becomes ``-inf`` so greedy
decoding returns exactly that token.

Warning: the logits of a left-padded row differ from the unpadded ones by float rounding (~1e-6), so
a re-batched row can, rarely, flip a token whose CDF boundary lies within that rounding of ``u_i``.
Same batches (what a resumed run uses) reproduce bit for bit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from applications.reward_models.rjs.policy import format_prompt, prompt_special_tokens


@dataclass(frozen=True)
class GenerationConfig:
    """Sampling settings.

    Attributes:
        max_new_tokens: cap on generated tokens per response.
        temperature: softmax temperature; ``0`` means greedy decoding.
        top_p: nucleus mass kept (``1.0`` disables).
        top_k: number of most likely tokens kept (``0`` disables).
        batch_size: rows (prompt × sample) per ``generate`` call.
        seed: base seed; row seeds are derived from it, the prompt text and the sample index.
    """

    max_new_tokens: int = 64
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 50
    batch_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


@dataclass(frozen=True)
class Generation:
    """One sampled response: decoded text (special tokens removed, whitespace stripped), the number
    of generated tokens (EOS included) and whether the policy stopped before ``max_new_tokens``."""

    response: str
    num_tokens: int
    finished: bool


def row_seed(seed: int, prompt: str, sample_index: int) -> int:
    """Deterministic 63-bit seed of sample ``sample_index`` of ``prompt`` (sha256 based, so it is
    independent of the prompt's position and of Python's hash randomization)."""
    digest = hashlib.sha256(f"{seed}\x00{sample_index}\x00{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def filter_logits(
    scores: torch.Tensor, temperature: float, top_k: int, top_p: float
) -> torch.Tensor:
    """Temperature-scaled logits ``[B, V]`` with tokens outside the top-k / top-p nucleus set to
    ``-inf``. The most likely token is always kept."""
    scores = scores.float() / temperature
    if 0 < top_k < scores.shape[-1]:
        kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if top_p < 1.0:
        sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
        probs = sorted_scores.softmax(dim=-1)
        # Mass strictly before each token; a token is dropped once that mass already reaches top_p.
        before = probs.cumsum(dim=-1) - probs
        drop_sorted = before >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, float("-inf"))
    return scores


class SeededSampler:
    """Logits processor sampling row ``i`` with its own generator (see module docstring)."""

    def __init__(self, seeds: Sequence[int], temperature: float, top_k: int, top_p: float):
        self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.temperature, self.top_k, self.top_p = temperature, top_k, top_p

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if scores.shape[0] != len(self.generators):
            raise ValueError(f"batch has {scores.shape[0]} rows but {len(self.generators)} seeds")
        probs = filter_logits(scores, self.temperature, self.top_k, self.top_p).softmax(dim=-1)
        u = torch.cat([torch.rand(1, generator=g) for g in self.generators]).to(probs.device)
        cdf = probs.cumsum(dim=-1)
        token = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(-1), right=True)
        token = token.clamp_max(probs.shape[-1] - 1)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(-1, token, 0.0)


def _model_device(model: Any) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    seeds: Sequence[int],
    config: GenerationConfig,
) -> list[Generation]:
    """Sample one response per ``(prompts[i], seeds[i])`` in batches of ``config.batch_size`` rows.

    Rows are processed in the given order; callers sort by prompt length to limit padding. The
    tokenizer must pad on the left
    (:func:`~applications.reward_models.rjs.policy.prepare_tokenizer`).

    Raises:
        ValueError: lengths differ, or the tokenizer pads on the right.
    """
    if len(prompts) != len(seeds):
        raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
    if tokenizer.padding_side != "left":
        raise ValueError("generation needs tokenizer.padding_side == 'left'")
    device = _model_device(model)
    eos = tokenizer.eos_token_id
    results: list[Generation] = []
    for start in range(0, len(prompts), config.batch_size):
        texts = [format_prompt(tokenizer, p) for p in prompts[start : start + config.batch_size]]
        batch_seeds = seeds[start : start + config.batch_size]
        enc = tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            add_special_tokens=prompt_special_tokens(tokenizer),
        )
        enc = {k: v.to(device) for k, v in enc.items()}
        kwargs: dict[str, Any] = {
            "max_new_tokens": config.max_new_tokens,
            "do_sample": False,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": eos,
        }
        if config.temperature > 0:
            sampler = SeededSampler(batch_seeds, config.temperature, config.top_k, config.top_p)
            kwargs["logits_processor"] = [sampler]
        out = model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1] :].cpu()
        for row in new.tolist():
            n_tokens, finished = len(row), False
            if eos is not None and eos in row:
                n_tokens, finished = row.index(eos) + 1, True
            text = tokenizer.decode(row[:n_tokens], skip_special_tokens=True).strip()
            results.append(Generation(text, n_tokens, finished))
    return results
