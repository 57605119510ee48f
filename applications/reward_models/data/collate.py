"""Tokenization shared by training, scoring and rejection sampling: ONE truncation policy.

Format. A (prompt, response) pair is encoded as plain text, with no chat template (so encoder and
decoder backbones see the same thing):

    ids = specials_before + tok(prompt)[-k:] + tok(SEP + response) + specials_after

where ``tok`` is the tokenizer without special tokens, ``SEP`` is :data:`SEPARATOR` if the prompt
ends with ``":"`` (HH-RLHF's ``"Assistant:"``, Summarize's ``"TL;DR:"``: the transcript reads as in
the original data) and ``"\\n\\n"`` otherwise, and the special tokens are those the tokenizer adds
to a single sequence (``[CLS] … [SEP]`` for BERT, ``<s>`` for Llama, nothing for SmolLM2).
Prompt and response are tokenized separately so the response's tokens never depend on the
prompt's truncation.

Truncation. If the sequence exceeds ``max_length``, the prompt is cut from the LEFT (the end of
the conversation is kept) and the response survives whole; if the response alone (with the
special tokens) does not fit, the pair is over-length: :func:`encode_prompt_response` returns
``None`` and :func:`filter_overlength` drops and counts it (reason ``"overlength"``).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

import torch

from applications.reward_models.data.schema import DropReport, PreferencePair

__all__ = [
    "SEPARATOR",
    "PairCollator",
    "encode_many",
    "encode_prompt_response",
    "filter_overlength",
    "format_text",
    "pad_sequences",
    "pad_token_ids",
]

SEPARATOR = " "
_PARAGRAPH = "\n\n"
_SPECIALS: weakref.WeakKeyDictionary[Any, tuple[list[int], list[int]]] = weakref.WeakKeyDictionary()


def _separator(prompt: str) -> str:
    stripped = prompt.rstrip()
    if not stripped:
        return ""
    return SEPARATOR if stripped.endswith(":") else _PARAGRAPH


def format_text(prompt: str, response: str) -> str:
    """The untruncated plain text a pair encodes: ``prompt.rstrip() + SEP + response.strip()``."""
    return prompt.rstrip() + _separator(prompt) + response.strip()


def _special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids the tokenizer adds before and after a single sequence (found by probing)."""
    try:
        return _SPECIALS[tokenizer]
    except (KeyError, TypeError):
        pass
    probe = "hello world"
    plain = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            result = (list(full[:start]), list(full[start + len(plain) :]))
            break
    else:
        raise ValueError(f"cannot locate the special tokens of {type(tokenizer).__name__}")
    with contextlib.suppress(TypeError):  # not weak-referenceable: probe again next time
        _SPECIALS[tokenizer] = result
    return result


def _assemble(
    before: list[int], after: list[int], prompt_ids: list[int], resp_ids: list[int], max_length: int
) -> list[int] | None:
    budget = max_length - len(before) - len(after)
    if len(resp_ids) > budget:
        return None
    keep = budget - len(resp_ids)
    if len(prompt_ids) > keep:
        prompt_ids = prompt_ids[len(prompt_ids) - keep :] if keep > 0 else []
    return [*before, *prompt_ids, *resp_ids, *after]


def encode_many(
    tokenizer: Any, prompts: Sequence[str], responses: Sequence[str], max_length: int
) -> list[list[int] | None]:
    """Batched :func:`encode_prompt_response` (one tokenizer call per side)."""
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    if not prompts:
        return []
    before, after = _special_tokens(tokenizer)
    p_text = [p.rstrip() for p in prompts]
    r_text = [_separator(p) + r.strip() for p, r in zip(prompts, responses, strict=True)]
    # verbose=False: untruncated pieces may exceed model_max_length; _assemble truncates them.
    p_ids = tokenizer(p_text, add_special_tokens=False, verbose=False)["input_ids"]
    r_ids = tokenizer(r_text, add_special_tokens=False, verbose=False)["input_ids"]
    return [
        _assemble(before, after, list(p), list(r), max_length)
        for p, r in zip(p_ids, r_ids, strict=True)
    ]


def encode_prompt_response(
    tokenizer: Any, prompt: str, response: str, max_length: int
) -> list[int] | None:
    """Token ids of ``prompt`` + ``response`` under the shared truncation policy (module docstring).

    Returns:
        At most ``max_length`` ids, or ``None`` when the response (plus special tokens) alone
        exceeds ``max_length``.
    """
    return encode_many(tokenizer, [prompt], [response], max_length)[0]


def filter_overlength(
    pairs: Sequence[PreferencePair], tokenizer: Any, max_length: int, drops: DropReport
) -> list[PreferencePair]:
    """Pairs whose chosen AND rejected both fit.

    The others are counted in ``drops`` as ``(source, "overlength")``.
    """
    prompts = [p.prompt for p in pairs]
    chosen = encode_many(tokenizer, prompts, [p.chosen for p in pairs], max_length)
    rejected = encode_many(tokenizer, prompts, [p.rejected for p in pairs], max_length)
    kept = []
    for pair, c, r in zip(pairs, chosen, rejected, strict=True):
        if c is None or r is None:
            drops.add(pair.source, "overlength")
        else:
            kept.append(pair)
    return kept


def _pad_id(tokenizer: Any) -> int:
    pad = tokenizer.pad_token_id
    if pad is None:
        raise ValueError(
            f"{type(tokenizer).__name__} has no pad token; set tokenizer.pad_token "
            "(e.g. to the eos token) before collating"
        )
    return int(pad)


def pad_token_ids(
    sequences: Sequence[Sequence[int]], pad_id: int, *, left: bool, width: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(ids, mask)`` ``[N, width]`` int64: each sequence placed on the left or right, the rest
    ``pad_id`` (mask 0). The one padder of training, scoring and SFT.

    Args:
        sequences: token ids (or labels) per row.
        pad_id: the fill value (a pad token id, or ``-100`` for labels).
        left: pad on the left (real tokens end at the last column).
        width: the padded length; default the longest sequence.

    Raises:
        ValueError: a sequence longer than ``width``.
    """
    longest = max((len(s) for s in sequences), default=0)
    width = longest if width is None else width
    if longest > width:
        raise ValueError(f"a sequence of {longest} tokens does not fit in width {width}")
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        n = len(seq)
        columns = slice(width - n, width) if left else slice(0, n)
        ids[row, columns] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, columns] = 1
    return ids, mask


def pad_sequences(tokenizer: Any, sequences: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
    """Pad to the longest sequence on ``tokenizer.padding_side`` (see :func:`pad_token_ids`).

    Returns ``{"input_ids": [N, T], "attention_mask": [N, T]}`` (int64).
    """
    if not sequences:
        raise ValueError("pad_sequences needs at least one sequence")
    left = tokenizer.padding_side == "left"
    ids, mask = pad_token_ids(sequences, _pad_id(tokenizer), left=left)
    return {"input_ids": ids, "attention_mask": mask}


class PairCollator:
    """Collate preference pairs into one forward pass: rows ``0..B−1`` chosen, ``B..2B−1`` rejected.

    Padding is dynamic (to the longest of the 2B sequences, never to ``max_length``) on
    ``tokenizer.padding_side``. Returns ``{"input_ids": [2B, T], "attention_mask": [2B, T],
    "source_ids": [source of pair j for j < B]}`` (``source_ids`` has length B).

    Raises:
        ValueError: an over-length pair (run :func:`filter_overlength` first) or no pad token.
    """

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        _pad_id(tokenizer)
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __call__(self, pairs: Sequence[PreferencePair]) -> dict[str, Any]:
        if not pairs:
            raise ValueError("PairCollator got an empty batch")
        prompts = [p.prompt for p in pairs] * 2
        responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
        encoded = encode_many(self.tokenizer, prompts, responses, self.max_length)
        for i, ids in enumerate(encoded):
            if ids is None:
                pair = pairs[i % len(pairs)]
                side = "chosen" if i < len(pairs) else "rejected"
                raise ValueError(
                    f"pair {i % len(pairs)} of source {pair.source!r}: the {side} response "
                    f"does not fit in max_length={self.max_length}; "
                    "drop it with filter_overlength first"
                )
        batch: dict[str, Any] = pad_sequences(self.tokenizer, encoded)  # type: ignore[arg-type]
        batch["source_ids"] = [p.source for p in pairs]
        return batch
