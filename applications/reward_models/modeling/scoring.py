"""Batched reward scoring with length bucketing: the one scorer of evaluation and RJS.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from applications.reward_models.modeling.reward_model import compute_rewards, reward_head

if TYPE_CHECKING:
    from applications.reward_models.data.schema import PreferencePair

__all__ = [
    "EncodeFn",
    "encode_texts",
    "head_inputs",
    "length_buckets",
    "score_pairs",
    "score_responses",
    "score_texts",
    "tokenizer_padding",
]

_PADDINGS = ("bucket", "longest", "max_length")

EncodeFn = Callable[[Any, str, str, int], "list[int] | None"]
"""``(tokenizer, prompt, response, max_length) -> token ids | None`` (``None``: does not fit)."""


def encode_texts(
    tokenizer: Any,
    prompts: Sequence[str],
    responses: Sequence[str],
    max_length: int,
    encode: EncodeFn | None = None,
) -> list[list[int] | None]:
    """Token ids of each ``(prompt, response)`` with the training truncation policy.

    Batched ``data.collate.encode_prompt_response`` (or ``encode`` per pair when given); ``None``
    marks a response that cannot survive truncation.

    Raises:
        ValueError: ``prompts`` and ``responses`` differ in length.
    """
    from applications.reward_models.data.collate import encode_many

    if encode is None:
        return encode_many(tokenizer, list(prompts), list(responses), max_length)
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    return [encode(tokenizer, p, r, max_length) for p, r in zip(prompts, responses, strict=True)]


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


@dataclass(frozen=True)
class _Batching:
    """How sequences are grouped and padded (the options of every scoring function)."""

    batch_size: int = 64
    max_length: int = 512
    padding: str = "bucket"
    pad_to_multiple_of: int = 8

    def __post_init__(self) -> None:
        if self.padding not in _PADDINGS:
            raise ValueError(f"padding must be one of {_PADDINGS}, got {self.padding!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")

    def batches(self, lengths: Sequence[int]) -> list[tuple[int, list[int]]]:
        """``[(padded length, [indices])]`` covering every index once."""
        if self.padding == "bucket":
            return length_buckets(
                lengths, self.batch_size, self.pad_to_multiple_of, self.max_length
            )
        size = self.batch_size
        chunks = [list(range(i, min(i + size, len(lengths)))) for i in range(0, len(lengths), size)]
        floor = self.max_length if self.padding == "max_length" else 0
        return [(max(floor, *(lengths[i] for i in rows)), rows) for rows in chunks]


def _model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def _score(
    model: nn.Module,
    seqs: Sequence[list[int]],
    padding: tuple[int, bool],
    batching: _Batching,
    device: torch.device | str | None,
    progress: bool,
    desc: str,
    forward: Callable[[nn.Module, Tensor, Tensor], Tensor] = compute_rewards,
) -> Tensor:
    """``forward(model, ids, mask)`` rows (default rewards ``[N]``; float32, CPU, input order)
    of token sequences; ``padding`` is ``(pad_token_id, left)``. The model is in eval mode for
    the call, then restored."""
    from tqdm.auto import tqdm

    from applications.reward_models.data.collate import pad_token_ids

    dev = torch.device(device) if device is not None else _model_device(model)
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
            for length, rows in batching.batches([len(s) for s in seqs]):
                batch = [seqs[i] for i in rows]
                ids, mask = pad_token_ids(batch, padding[0], left=padding[1], width=length)
                chunks.append(forward(model, ids.to(dev), mask.to(dev)).float())
                order.extend(rows)
                bar.update(len(rows))
    finally:
        model.train(was_training)
    if not chunks:
        return torch.empty(0, dtype=torch.float32)
    rows = torch.cat(chunks).cpu()
    out = torch.empty_like(rows)
    out[torch.tensor(order)] = rows
    return out


def score_texts(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    responses: Sequence[str],
    batch_size: int = 32,
    max_length: int = 512,
    encode: EncodeFn | None = None,
    *,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> list[float | None]:
    """Rewards ``r(prompt_i, response_i)``; ``None`` where the pair cannot be encoded.

    Like :func:`score_responses` (length-bucketed batches, padding on
    ``tokenizer.padding_side``, inference mode), but a response that does not fit in
    ``max_length`` gets ``None`` instead of raising; ``encode`` replaces the training encoder.

    Raises:
        ValueError: ``prompts`` and ``responses`` differ in length, the tokenizer has no pad
            token, or the model does not output one logit per sequence.
    """
    padding = tokenizer_padding(tokenizer)
    encoded = encode_texts(tokenizer, prompts, responses, max_length, encode)
    kept = [i for i, e in enumerate(encoded) if e is not None]
    batching = _Batching(batch_size, max_length)
    seqs: list[list[int]] = [encoded[i] for i in kept]  # type: ignore[misc]
    rewards = _score(model, seqs, padding, batching, device, progress, "scoring").tolist()
    out: list[float | None] = [None] * len(encoded)
    for i, value in zip(kept, rewards, strict=True):
        out[i] = value
    return out


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
    batching = _Batching(batch_size, max_length, padding, pad_to_multiple_of)
    pads = tokenizer_padding(tokenizer)
    encoded = _encode_all(tokenizer, prompts, responses, max_length)
    return _score(model, encoded, pads, batching, device, progress, desc)


def score_pairs(
    model: nn.Module,
    tokenizer: Any,
    pairs: Sequence[PreferencePair],
    batch_size: int = 32,
    max_length: int = 512,
    device: torch.device | str | None = None,
    **options: Any,
) -> tuple[Tensor, Tensor]:
    """Rewards of the chosen and rejected responses of preference pairs.

    Chosen and rejected texts are scored as ``2N`` independent sequences, length-bucketed
    together (``batch_size`` pairs = ``2·batch_size`` sequences per forward pass), under
    ``torch.inference_mode()``. ``max_length``, ``device`` and ``options`` (``padding``,
    ``pad_to_multiple_of``, ``progress``) are those of :func:`score_responses`. Over-length pairs
    raise; filter them first with ``filter_overlength(pairs, tokenizer, max_length, drops)``,
    which counts them.

    Returns:
        ``(r_chosen [N], r_rejected [N])``, float32 on CPU, in the order of ``pairs``.
    """
    n = len(pairs)
    prompts = [p.prompt for p in pairs] * 2
    responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    options.setdefault("desc", "scoring pairs")
    rewards = score_responses(
        model, tokenizer, prompts, responses, 2 * batch_size, max_length, device, **options
    )
    return rewards[:n], rewards[n:]


def _encode_all(
    tokenizer: Any, prompts: Sequence[str], responses: Sequence[str], max_length: int
) -> list[list[int]]:
    """Token ids of every prompt + response; raises if one cannot fit in ``max_length``."""
    encoded = encode_texts(tokenizer, prompts, responses, max_length)
    bad = [i for i, e in enumerate(encoded) if e is None]
    if bad:
        raise ValueError(
            f"{len(bad)} of {len(encoded)} responses cannot fit in max_length={max_length} tokens "
            f"(first index {bad[0]}); drop them with data.collate.filter_overlength first"
        )
    return encoded  # type: ignore[return-value]


def _head_input(model: nn.Module, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """What the reward head receives for each sequence (``[N, H]``), caught by a forward hook.

    A decoder's head scores every token and the model then keeps one position per sequence;
    that position is the one whose head output is the sequence's reward.
    """
    caught: list[tuple[Tensor, Tensor]] = []
    hook = reward_head(model).register_forward_hook(
        lambda _m, args, out: caught.append((args[0], out))
    )
    try:
        rewards = compute_rewards(model, input_ids, attention_mask)
    finally:
        hook.remove()
    inputs, outputs = caught[-1]
    if inputs.dim() == 2:
        return inputs
    position = (outputs.squeeze(-1).float() - rewards[:, None]).abs().argmin(dim=1)
    return inputs[torch.arange(inputs.shape[0], device=inputs.device), position]


def head_inputs(
    model: nn.Module,
    tokenizer: Any,
    prompts: Sequence[str],
    responses: Sequence[str],
    batch_size: int = 64,
    max_length: int = 512,
    *,
    progress: bool = False,
    desc: str = "encoding",
) -> Tensor:
    """The reward head's inputs ``z_i`` (``[N, H]`` float32, CPU, input order), so that the
    model's reward is ``head(z_i)`` (:func:`~.reward_model.reward_head`; eval mode, dropout off).

    With the backbone frozen, a study can encode every text once and train only the head on
    these features. Batching and truncation are those of :func:`score_responses`.

    Raises:
        ValueError: as :func:`score_responses` (over-length responses, no pad token).
    """
    batching = _Batching(batch_size, max_length)
    encoded = _encode_all(tokenizer, prompts, responses, max_length)
    pads = tokenizer_padding(tokenizer)
    return _score(model, encoded, pads, batching, None, progress, desc, _head_input)
