"""Stage 4 — supervised fine-tuning of the policy on the best-of-n responses.

Objective (response tokens only): for examples ``(x_i, y_i)`` with ``y_i`` the selected response
followed by EOS (no EOS when sampling stopped at ``max_new_tokens``),

$$ L(θ) = - \\frac{1}{\\sum_i |y_i|}
   \\sum_i \\sum_{t=1}^{|y_i|} \\log π_θ(y_{i,t} \\mid x_i, y_{i,<t}) $$

i.e. prompt tokens and padding get label ``-100`` and do not contribute; the mean is over response
tokens of the whole batch (token-weighted, like ``transformers``' causal-LM loss). The prompt is the
policy's chat-formatted prompt (:func:`~applications.reward_models.rjs.policy.encode_prompt`),
exactly what generation conditioned on, and the response is tokenized separately so the
prompt/response boundary is exact. Training batches are right-padded (position ids then match
unpadded sequences).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from applications.reward_models.data.collate import pad_token_ids
from applications.reward_models.files import atomic_directory, write_json_atomic
from applications.reward_models.rjs.policy import encode_prompt, end_of_response
from applications.reward_models.rjs.records import Record

IGNORE_INDEX = -100


@dataclass(frozen=True)
class SFTExample:
    """Token ids and labels of one example (labels are ``-100`` on prompt tokens)."""

    input_ids: list[int]
    labels: list[int]


def build_sft_example(
    tokenizer: Any, prompt: str, response: str, max_length: int, add_eos: bool = True
) -> SFTExample | None:
    """Tokenize ``prompt`` (chat-formatted) + ``response`` (+ EOS) with the prompt masked.

    ``add_eos=False`` is for responses cut by ``max_new_tokens``: teaching the policy to stop
    there would teach it to stop mid-sentence. The response is cut on the right to fit
    ``max_length``; ``None`` when the prompt leaves no room for a single response token (callers
    count these drops).
    """
    prompt_ids = encode_prompt(tokenizer, prompt)
    suffix = end_of_response(tokenizer) if add_eos else ""
    response_ids = list(tokenizer(response + suffix, add_special_tokens=False).input_ids)
    room = max_length - len(prompt_ids)
    if room < 1 or not response_ids:
        return None
    response_ids = response_ids[:room]
    return SFTExample(prompt_ids + response_ids, [IGNORE_INDEX] * len(prompt_ids) + response_ids)


def collate_sft(examples: Sequence[SFTExample], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-pad to the batch maximum: ``input_ids`` with ``pad_token_id``, ``attention_mask`` 0 and
    ``labels`` ``-100`` on padding. Padding is masked by position, not by token id, so an EOS that
    equals the pad token is still a label."""
    ids, mask = pad_token_ids([e.input_ids for e in examples], pad_token_id, left=False)
    labels, _ = pad_token_ids([e.labels for e in examples], IGNORE_INDEX, left=False)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def response_nll(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Σ −log π(token), number of tokens)`` over positions whose label is not ``-100``.

    Position ``t`` predicts label ``t`` from logits ``t − 1`` (the causal shift).
    """
    device = next(model.parameters()).device
    logits = model(
        input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)
    ).logits
    labels = batch["labels"].to(device)[:, 1:]
    logits = logits[:, :-1].float()
    nll = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )
    return nll, (labels != IGNORE_INDEX).sum()


@dataclass
class SFTConfig:
    """Fine-tuning settings: AdamW with a constant learning rate, a few steps by default.

    Attributes:
        epochs: passes over the selected examples; ``max_steps`` caps the total (``0``: no cap).
    """

    learning_rate: float = 1e-5
    weight_decay: float = 0.0
    batch_size: int = 4
    epochs: int = 1
    max_steps: int = 0
    max_length: int = 384
    max_grad_norm: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.learning_rate <= 0 or self.batch_size < 1 or self.epochs < 1 or self.max_steps < 0:
            raise ValueError(f"invalid SFT settings: {self}")


@dataclass
class SFTStats(Record):
    """What SFT did: examples used/dropped and the loss of every step."""

    examples: int = 0
    examples_dropped_too_long: int = 0
    steps: int = 0
    losses: list[float] = field(default_factory=list)


def finetune(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[tuple[str, str]],
    config: SFTConfig,
    log: Callable[[str], None] = lambda _: None,
    add_eos: Sequence[bool] | None = None,
) -> SFTStats:
    """Fine-tune ``model`` in place on ``(prompt, response)`` pairs with the masked loss above.

    Args:
        add_eos: per pair, whether the response ended with EOS when sampled (default: all);
            see :func:`build_sft_example`.

    Raises:
        ValueError: no example fits ``max_length``, or ``add_eos`` has the wrong length.
    """
    if add_eos is not None and len(add_eos) != len(pairs):
        raise ValueError(f"{len(add_eos)} add_eos flags for {len(pairs)} pairs")
    flags = list(add_eos) if add_eos is not None else [True] * len(pairs)
    stats = SFTStats()
    examples = []
    for (prompt, response), eos in zip(pairs, flags, strict=True):
        ex = build_sft_example(tokenizer, prompt, response, config.max_length, add_eos=eos)
        if ex is None:
            stats.examples_dropped_too_long += 1
        else:
            examples.append(ex)
    stats.examples = len(examples)
    if not examples:
        raise ValueError(f"no SFT example fits max_length={config.max_length}")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    generator = torch.Generator().manual_seed(config.seed)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(examples), generator=generator).tolist()
        for start in range(0, len(order), config.batch_size):
            if config.max_steps and stats.steps >= config.max_steps:
                break
            batch = collate_sft(
                [examples[i] for i in order[start : start + config.batch_size]], pad
            )
            nll, count = response_nll(model, batch)
            loss = nll / count.clamp_min(1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            stats.steps += 1
            # One sync per optimizer step (not per token) to log the loss curve.
            stats.losses.append(float(loss.detach()))
            log(f"sft step {stats.steps}: loss {stats.losses[-1]:.4f}")
    model.eval()
    return stats


def save_policy(model: Any, tokenizer: Any, out_dir: str | Path, stats: SFTStats) -> None:
    """``save_pretrained`` model + tokenizer + ``sft_stats.json`` into a temporary sibling, then
    rename, so ``out_dir`` exists only when complete (the resume marker of the SFT stage)."""
    with atomic_directory(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json_atomic(Path(tmp) / "sft_stats.json", stats.to_dict())
