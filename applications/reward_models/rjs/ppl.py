"""Perplexity of a policy on held-out responses, response tokens only (the paper's Table 2 PPL).

For held-out ``(x_i, y_i)`` (the *chosen* response of a test preference pair) we compute

$$ \\mathrm{PPL} = \\exp\\Big( \\frac{1}{\\sum_i |y_i|}
   \\sum_i \\sum_{t} -\\log π(y_{i,t} \\mid x_i, y_{i,<t}) \\Big) $$

a token-weighted corpus perplexity over response tokens (EOS included, prompt excluded), with the
prompt chat-formatted exactly as in generation and SFT
(:func:`~applications.reward_models.rjs.sft.build_sft_example`). Examples whose prompt alone exceeds
``max_length`` are dropped and counted; longer responses are cut on the right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from applications.reward_models.rjs.records import Record
from applications.reward_models.rjs.sft import build_sft_example, collate_sft, response_nll


@dataclass(frozen=True)
class PerplexityResult(Record):
    """``ppl = exp(nll_per_token)`` over ``tokens`` response tokens of ``examples`` examples."""

    ppl: float
    nll_per_token: float
    tokens: int
    examples: int
    dropped_too_long: int


@torch.inference_mode()
def perplexity(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[tuple[str, str]],
    batch_size: int = 8,
    max_length: int = 512,
) -> PerplexityResult:
    """Corpus perplexity of ``model`` on ``(prompt, response)`` pairs (see module docstring).

    Raises:
        ValueError: no example fits ``max_length``.
    """
    examples, dropped = [], 0
    for prompt, response in pairs:
        ex = build_sft_example(tokenizer, prompt, response, max_length)
        if ex is None:
            dropped += 1
        else:
            examples.append(ex)
    if not examples:
        raise ValueError(f"no perplexity example fits max_length={max_length} ({dropped} dropped)")
    examples.sort(key=lambda e: len(e.input_ids))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    was_training = model.training
    model.eval()
    total_nll = torch.zeros((), dtype=torch.float64)
    total_tokens = torch.zeros((), dtype=torch.long)
    for start in range(0, len(examples), batch_size):
        nll, count = response_nll(model, collate_sft(examples[start : start + batch_size], pad))
        total_nll += nll.double().cpu()
        total_tokens += count.cpu()
    model.train(was_training)
    tokens = int(total_tokens)
    per_token = float(total_nll) / tokens
    return PerplexityResult(math.exp(per_token), per_token, tokens, len(examples), dropped)
