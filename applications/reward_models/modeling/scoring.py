"""Batched reward scoring with length bucketing: rewards of many (prompt, response) texts.

Every sequence is tokenized exactly as in training (``data.collate.encode_prompt_response``,
one truncation policy), then sequences are sorted by length and padded to a length that depends
**only on the sequence itself** — its token count rounded up to a multiple of
``pad_to_multiple_of`` — and batched within equal padded lengths. Two consequences:

* little padding (at most ``pad_to_multiple_of − 1`` tokens per sequence, versus padding every
  sequence to ``max_length``; see ``benchmarks/scoring.py``);
* each sequence always sees the same input (same tokens, same padding, same position ids),
  whatever the batch size or the other sequences (tested bit-for-bit), so the rewards do not
  depend on ``batch_size`` beyond the rounding of BLAS kernels chosen per batch shape
  (≤ 1e-6 on CPU in our tests).

Baselines kept for the benchmark: ``padding="max_length"`` pads every sequence to
``max_length`` in input order (the pad-to-max pipelines of older RM toolkits);
``padding="longest"`` pads each input-order batch to its longest sequence (dynamic padding
without length bucketing; results then depend on the batch composition through padding).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from applications.reward_models.modeling.reward_model import compute_rewards

if TYPE_CHECKING:
    from applications.reward_models.data.schema import PreferencePair

__all__ = [
    "encode_texts",
    "length_buckets",
    "score_pairs",
    "score_responses",
    "score_token_sequences",
    "tokenizer_padding",
]

_PADDINGS = ("bucket", "longest", "max_length")


def encode_texts(
    tokenizer: Any, prompts: Sequence[str], responses: Sequence[str], max_length: int
) -> list[list[int] | None]:
    """Token ids of each ``(prompt, response)`` with the training truncation policy.

    Batched ``data.collate.encode_prompt_response``; ``None`` marks a response that cannot
    survive truncation.
    """
    from applications.reward_models.data.collate import encode_many

    return encode_many(tokenizer, list(prompts), list(responses), max_length)


def length_buckets(
    lengths: Sequence[int], batch_size: int, pad_to_multiple_of: int = 8, max_length: int = 512
) -> list[tuple[int, list[int]]]:
    """Group sequence indices into batches of equal padded length.

    The padded length of a sequence of ``L`` tokens is ``min(⌈L / m⌉·m, max(L, max_length))``
    with ``m = pad_to_multiple_of``. Indices are sorted by (padded length, index) — stable, so
    deterministic — and each padded-length group is cut into chunks of ``batch_size``.

    Returns:
        ``[(padded_length, [indices...]), ...]`` in increasing padded length.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if pad_to_multiple_of < 1:
        raise ValueError(f"pad_to_multiple_of must be >= 1, got {pad_to_multiple_of}")
    m = pad_to_multiple_of

    def padded(n: int) -> int:
        return min(-(-n // m) * m, max(n, max_length))

    order = sorted(range(len(lengths)), key=lambda i: (padded(lengths[i]), i))
    batches: list[tuple[int, list[int]]] = []
    for i in order:
        t = padded(lengths[i])
        if batches and batches[-1][0] == t and len(batches[-1][1]) < batch_size:
            batches[-1][1].append(i)
        else:
            batches.append((t, [i]))
    return batches


def tokenizer_padding(tokenizer: Any) -> tuple[int, bool]:
    """``(pad_token_id, left_padding)`` of a tokenizer, as every scorer pads.

    Raises:
        ValueError: the tokenizer has no pad token.
    """
    if tokenizer.pad_token_id is None:
        raise ValueError("tokenizer has no pad token; set tokenizer.pad_token first")
    return tokenizer.pad_token_id, getattr(tokenizer, "padding_side", "right") == "left"


def _pad(
    seqs: list[list[int]], length: int, pad_id: int, left: bool, device: torch.device
) -> tuple[Tensor, Tensor]:
    ids = torch.full((len(seqs), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), length), dtype=torch.long)
    for row, s in enumerate(seqs):
        n = len(s)
        sl = slice(length - n, length) if left else slice(0, n)
        ids[row, sl] = torch.tensor(s, dtype=torch.long)
        mask[row, sl] = 1
    return ids.to(device), mask.to(device)


def _model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def score_responses(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    responses: Sequence[str],
    batch_size: int = 64,
    max_length: int = 512,
    device: torch.device | str | None = None,
    *,
    padding: str = "bucket",
    pad_to_multiple_of: int = 8,
    progress: bool = True,
    desc: str = "scoring",
) -> Tensor:
    """Rewards ``r(prompt_i, response_i)`` as a float32 CPU tensor ``[N]`` in input order.

    Args:
        model: a reward model (logits ``[B, 1]``); put in eval mode for the call, then restored.
        tokenizer: its tokenizer (``pad_token_id`` set; ``padding_side`` respected).
        prompts: the prompts, one per response.
        responses: the responses to score (same length as ``prompts``).
        batch_size: sequences per forward pass.
        max_length: truncation length (training's policy, via ``encode_prompt_response``).
        device: where to run; default the model's device.
        padding: ``"bucket"`` (default, see module doc), ``"longest"`` or ``"max_length"``
            (baselines).
        pad_to_multiple_of: bucket granularity for ``padding="bucket"``.
        progress: show a tqdm bar (sequences).
        desc: the bar's label.

    Raises:
        ValueError: a response cannot fit in ``max_length`` tokens (filter the data first with
            ``data.collate.filter_overlength``, which counts the drops), bad arguments, or a
            tokenizer without a pad token.
    """
    pad_token_id, left_padding = tokenizer_padding(tokenizer)
    encoded = encode_texts(tokenizer, prompts, responses, max_length)
    bad = [i for i, e in enumerate(encoded) if e is None]
    if bad:
        raise ValueError(
            f"{len(bad)} of {len(encoded)} responses cannot fit in max_length={max_length} tokens "
            f"(first index {bad[0]}); drop them with data.collate.filter_overlength first"
        )
    return score_token_sequences(
        model,
        encoded,  # type: ignore[arg-type]
        pad_token_id=pad_token_id,
        left_padding=left_padding,
        batch_size=batch_size,
        max_length=max_length,
        device=device,
        padding=padding,
        pad_to_multiple_of=pad_to_multiple_of,
        progress=progress,
        desc=desc,
    )


def score_token_sequences(
    model: nn.Module,
    seqs: Sequence[list[int]],
    *,
    pad_token_id: int,
    left_padding: bool,
    batch_size: int = 64,
    max_length: int = 512,
    device: torch.device | str | None = None,
    padding: str = "bucket",
    pad_to_multiple_of: int = 8,
    progress: bool = False,
    desc: str = "scoring",
) -> Tensor:
    """Rewards of already tokenized sequences, ``[N]`` float32 on CPU in input order.

    The batched core of :func:`score_responses` (same arguments); use it when the token ids come
    from elsewhere (e.g. RJS samples encoded once).

    Raises:
        ValueError: unknown ``padding`` or ``batch_size < 1``.
    """
    if padding not in _PADDINGS:
        raise ValueError(f"padding must be one of {_PADDINGS}, got {padding!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if padding == "bucket":
        batches = length_buckets([len(s) for s in seqs], batch_size, pad_to_multiple_of, max_length)
    else:
        idx = list(range(len(seqs)))
        rows_list = [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
        if padding == "longest":
            batches = [(max(len(seqs[i]) for i in rows), rows) for rows in rows_list]
        else:
            batches = [(max(max_length, *(len(seqs[i]) for i in rows)), rows) for rows in rows_list]
    dev = torch.device(device) if device is not None else _model_device(model)
    from tqdm.auto import tqdm

    # Rewards stay on the device until the end: one host transfer, no sync per batch.
    chunks: list[Tensor] = []
    order: list[int] = []

    was_training = model.training
    model.eval()
    try:
        with (
            torch.inference_mode(),
            tqdm(total=len(seqs), desc=desc, unit="seq", disable=not progress) as bar,
        ):
            for length, rows in batches:
                ids, mask = _pad([seqs[i] for i in rows], length, pad_token_id, left_padding, dev)
                chunks.append(compute_rewards(model, ids, mask).float())
                order.extend(rows)
                bar.update(len(rows))
    finally:
        model.train(was_training)
    out = torch.empty(len(seqs), dtype=torch.float32)
    if chunks:
        out[torch.tensor(order)] = torch.cat(chunks).cpu()
    return out


def score_pairs(
    model: nn.Module,
    tokenizer: Any,
    pairs: Sequence[PreferencePair],
    batch_size: int = 32,
    max_length: int = 512,
    device: torch.device | str | None = None,
    *,
    padding: str = "bucket",
    pad_to_multiple_of: int = 8,
    progress: bool = True,
) -> tuple[Tensor, Tensor]:
    """Rewards of the chosen and rejected responses of preference pairs.

    Chosen and rejected texts are scored as ``2N`` independent sequences, length-bucketed
    together (``batch_size`` pairs = ``2·batch_size`` sequences per forward pass), under
    ``torch.inference_mode()``; see :func:`score_responses`.

    Args:
        pairs: the pairs to score. Over-length pairs raise; filter them first with
            ``filter_overlength(pairs, tokenizer, max_length, drops)``, which counts them.
        batch_size: pairs per forward pass (``2·batch_size`` sequences).
        max_length: as in :func:`score_responses`.
        device: as in :func:`score_responses`.
        padding: as in :func:`score_responses`.
        pad_to_multiple_of: as in :func:`score_responses`.
        progress: as in :func:`score_responses`.

    Returns:
        ``(r_chosen [N], r_rejected [N])``, float32 on CPU, in the order of ``pairs``.
    """
    n = len(pairs)
    prompts = [p.prompt for p in pairs] * 2
    responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    rewards = score_responses(
        model,
        tokenizer,
        prompts,
        responses,
        batch_size=2 * batch_size,
        max_length=max_length,
        device=device,
        padding=padding,
        pad_to_multiple_of=pad_to_multiple_of,
        progress=progress,
        desc="scoring pairs",
    )
    return rewards[:n], rewards[n:]
