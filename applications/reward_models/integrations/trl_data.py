"""Data for :class:`~applications.reward_models.integrations.trl.MoreRewardTrainer`.

* :func:`pairs_to_dataset`: the project's canonical pairs → a TRL preference dataset (explicit
  prompt format ``prompt`` / ``chosen`` / ``rejected``) with the extra ``source`` column, optionally
  pre-tokenized (``chosen_ids`` / ``rejected_ids``) with the project's truncation policy.
* :class:`SourceBalancedSampler`: dataset indices whose consecutive chunks of K·m indices hold
  exactly m pairs of every source, so every per-device batch of K·m pairs is balanced.
* :class:`SourceCollator`: TRL's preference collator that also passes the pairs' sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from trl.trainer.reward_trainer import DataCollatorForPreference

from applications.reward_models.data.collate import encode_many, format_text
from applications.reward_models.data.sampling import BalancedBatchSampler
from applications.reward_models.data.schema import PreferencePair

__all__ = ["SourceBalancedSampler", "SourceCollator", "pairs_to_dataset", "source_names"]

SOURCE_COLUMN = "source"


def _flatten(
    pairs: Mapping[str, Sequence[PreferencePair]] | Iterable[PreferencePair],
) -> list[PreferencePair]:
    if isinstance(pairs, Mapping):
        return [p for group in pairs.values() for p in group]
    return list(pairs)


def _tokenized(
    pairs: list[PreferencePair], tokenizer: Any, max_length: int
) -> dict[str, list[list[int]]]:
    prompts = [p.prompt for p in pairs]
    columns: dict[str, list[list[int]]] = {}
    for side in ("chosen", "rejected"):
        ids = encode_many(tokenizer, prompts, [getattr(p, side) for p in pairs], max_length)
        for i, row in enumerate(ids):
            if row is None:
                raise ValueError(
                    f"pair {i} of source {pairs[i].source!r}: the {side} response does not fit "
                    f"in max_length={max_length}; drop it first with "
                    "applications.reward_models.data.collate.filter_overlength"
                )
        columns[f"{side}_ids"] = ids  # type: ignore[assignment]
    return columns


def pairs_to_dataset(
    pairs: Mapping[str, Sequence[PreferencePair]] | Iterable[PreferencePair],
    tokenizer: Any = None,
    max_length: int | None = None,
    *,
    with_margin: bool = False,
) -> Any:
    """A ``datasets.Dataset`` in TRL's preference format, with a ``source`` column.

    Any source kind works (simulator, HH-RLHF, OASST1, ...): the input is canonical
    :class:`~applications.reward_models.data.schema.PreferencePair` objects, a list or
    ``{source: pairs}`` (e.g. ``SourceData.train``). Text columns follow the project's format:
    ``prompt + chosen == format_text(prompt, chosen)`` (the separator ends the prompt column).

    Args:
        tokenizer: if given, ``chosen_ids`` / ``rejected_ids`` are added with the project's
            truncation policy (prompt cut from the left, response whole,
            :func:`~applications.reward_models.data.collate.encode_many`); TRL then uses them as
            they are instead of tokenizing ``prompt + chosen + eos`` itself.
        max_length: token budget for ``tokenizer`` (required with it).
        with_margin: add TRL's ``margin`` column (the loss becomes −log σ(Δ − margin)); every
            pair must then have a margin.

    Raises:
        ValueError: no pairs, ``tokenizer`` without ``max_length``, an over-length pair (run
            ``filter_overlength`` first) or a pair without margin under ``with_margin``
            (each naming the pair and its source).
    """
    from datasets import Dataset

    rows = _flatten(pairs)
    if not rows:
        raise ValueError("pairs_to_dataset got no pairs")
    data: dict[str, list[Any]] = {
        "prompt": [format_text(p.prompt, "") for p in rows],
        "chosen": [p.chosen.strip() for p in rows],
        "rejected": [p.rejected.strip() for p in rows],
        SOURCE_COLUMN: [p.source for p in rows],
    }
    if with_margin:
        for i, p in enumerate(rows):
            if p.margin is None:
                raise ValueError(f"pair {i} of source {p.source!r} has no margin (with_margin)")
        data["margin"] = [float(p.margin) for p in rows]  # type: ignore[arg-type]
    if tokenizer is not None:
        if max_length is None:
            raise ValueError("pairs_to_dataset: max_length is required with a tokenizer")
        data.update(_tokenized(rows, tokenizer, max_length))
    return Dataset.from_dict(data)


def source_names(sources: Sequence[str]) -> list[str]:
    """The distinct sources in order of first appearance (the order of λ and of the objectives).

    Raises:
        ValueError: no rows, or a source that is not a non-empty string (its row is named).
    """
    if len(sources) == 0:
        raise ValueError(f"the {SOURCE_COLUMN!r} column is empty")
    seen: dict[str, None] = {}
    for i, s in enumerate(sources):
        if not isinstance(s, str) or not s:
            raise ValueError(f"row {i}: {SOURCE_COLUMN!r} must be a non-empty string, got {s!r}")
        seen.setdefault(s, None)
    return list(seen)


class SourceBalancedSampler(torch.utils.data.Sampler[int]):
    """Indices in balanced chunks: every K·m consecutive indices hold m pairs of each source.

    The chunks are the batches of the project's
    :class:`~applications.reward_models.data.sampling.BalancedBatchSampler` (each source resampled
    to ``resample_to`` pairs per epoch, default the largest source; only full batches), flattened.
    With a DataLoader batch size of K·m every batch is balanced; under accelerate's distributed
    loading each rank takes whole batches (``BatchSamplerShard``), so each rank's batch is balanced
    too. The order of epoch ``e`` is a pure function of ``(seed, e)`` (:meth:`set_epoch`), so TRL's
    resume, which skips the batches already seen, replays exactly.

    Raises:
        ValueError: a source in ``names`` without rows, or a row whose source is not in ``names``.
    """

    def __init__(
        self,
        sources: Sequence[str],
        pairs_per_source: int,
        names: Sequence[str] | None = None,
        *,
        resample_to: int | None = None,
        seed: int = 0,
    ) -> None:
        names = list(names) if names is not None else source_names(sources)
        index = {n: i for i, n in enumerate(names)}
        rows: list[list[int]] = [[] for _ in names]
        for i, s in enumerate(sources):
            if s not in index:
                raise ValueError(f"row {i}: source {s!r} is not one of {names}")
            rows[index[s]].append(i)
        self.names = names
        self._batches = BalancedBatchSampler(
            dict(zip(names, rows, strict=True)),
            pairs_per_source,
            resample_to=resample_to,
            seed=seed,
            drop_last=True,
        )

    @property
    def batch_size(self) -> int:
        """K·m: the DataLoader batch size that makes every batch balanced."""
        return self._batches.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` from its beginning (called by the Trainer at every epoch)."""
        self._batches.load_state_dict({"seed": self._batches.seed, "epoch": epoch, "position": 0})

    def __len__(self) -> int:
        return len(self._batches) * self._batches.batch_size

    def __iter__(self) -> Iterator[int]:
        for batch in self._batches:
            yield from (int(i) for i in batch)


@dataclass
class SourceCollator(DataCollatorForPreference):
    """TRL's ``DataCollatorForPreference`` plus ``source_ids``: the source of pair j (a list)."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = super().torch_call(examples)
        if examples and SOURCE_COLUMN in examples[0]:
            batch["source_ids"] = [ex[SOURCE_COLUMN] for ex in examples]
        return batch
