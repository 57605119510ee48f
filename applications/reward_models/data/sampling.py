"""Seeded, resumable batch samplers: per-source balanced (MORE) and uniform (MultiTask / Single).

Epoch semantics (both samplers): iterating the sampler yields the *remaining* batches of the
current epoch, then advances to the next epoch; ``len(sampler)`` is the number of batches per
epoch. The order of epoch ``e`` is a pure function of ``(seed, e)``, and ``state_dict()``
records ``(epoch, position)``, so ``load_state_dict`` on a fresh sampler yields exactly the
batches an uninterrupted run would have yielded next.

Last batch of an epoch: kept short (default), skipped (``drop_last``) or completed with the
epoch's first pairs (``fill_last``, the padding of ``torch.utils.data.DistributedSampler``), so
that every batch is full and splits evenly across processes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from applications.reward_models.data.schema import PreferencePair

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["BalancedBatchSampler", "EpochOptions", "UniformBatchSampler", "resample_indices"]


def resample_indices(n: int, target: int, rng: np.random.Generator) -> np.ndarray:
    """``target`` indices into ``range(n)``, shuffled.

    ``target ≤ n``: a uniformly random subset without replacement. ``target > n``: upsampling with
    replacement, stratified so that every item appears ``⌊target/n⌋`` or ``⌈target/n⌉`` times
    (all items ``⌊target/n⌋`` times plus a random subset of ``target mod n`` items once more),
    which has lower variance than i.i.d. draws and never loses an item.

    Raises:
        ValueError: ``n < 1`` or ``target < 0``.
    """
    if n < 1:
        raise ValueError(f"cannot resample an empty source (n={n})")
    if target < 0:
        raise ValueError(f"target must be >= 0, got {target}")
    copies, rest = divmod(target, n)
    idx = np.concatenate([np.tile(np.arange(n), copies), rng.permutation(n)[:rest]])
    return rng.permutation(idx)


class EpochOptions(TypedDict, total=False):
    """The options every sampler takes besides its pairs and batch size."""

    seed: int
    drop_last: bool
    fill_last: bool


def _check_sources(
    pairs_by_source: Mapping[str, Sequence[PreferencePair]], resample_to: int | None, who: str
) -> None:
    """Refuse no sources, an empty source and a non-positive ``resample_to``."""
    if not pairs_by_source:
        raise ValueError(f"{who} needs at least one source")
    for name, pairs in pairs_by_source.items():
        if len(pairs) == 0:
            raise ValueError(f"source {name!r} has no pairs")
    if resample_to is not None and resample_to < 1:
        raise ValueError(f"resample_to must be >= 1 or None, got {resample_to}")


class _EpochState:
    """``(epoch, position)`` bookkeeping shared by both samplers."""

    def __init__(self, seed: int, drop_last: bool, fill_last: bool) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        if drop_last and fill_last:
            raise ValueError("drop_last and fill_last exclude each other")
        self.seed = seed
        self.drop_last = drop_last
        self.fill_last = fill_last
        self.epoch = 0
        self.position = 0

    def state_dict(self) -> dict[str, int]:
        """``{"seed", "epoch", "position"}``; position = batches already yielded this epoch."""
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: Mapping[str, int]) -> None:
        """Restore a :meth:`state_dict`.

        Raises:
            ValueError: the seed differs from this sampler's (the batches would not match).
        """
        if int(state["seed"]) != self.seed:
            raise ValueError(
                f"sampler state was saved with seed {state['seed']}, "
                f"this sampler has seed {self.seed}"
            )
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])

    def _rng(self, *keys: int) -> np.random.Generator:
        # SeedSequence needs non-negative entries; negative seeds are valid for users.
        return np.random.default_rng([self.seed % 2**63, self.epoch, *keys])

    def __len__(self) -> int:
        raise NotImplementedError

    def _rest_of_epoch(
        self, batch: Callable[[int], list[PreferencePair]]
    ) -> Iterator[list[PreferencePair]]:
        """``batch(b)`` for the positions b not yet yielded this epoch, then the next epoch.

        ``position`` counts a batch as yielded before it is handed out, so a ``state_dict``
        taken while the consumer holds batch b resumes at b + 1.
        """
        while self.position < len(self):
            b = self.position
            self.position += 1
            yield batch(b)
        self.epoch += 1
        self.position = 0


class BalancedBatchSampler(_EpochState):
    """Batches with exactly ``pairs_per_source`` pairs from every source (MORE's batches).

    Each epoch, source ``i`` is resampled to ``N`` pairs (:func:`resample_indices`;
    ``N`` = ``resample_to``, default the largest source size, so small sources are upsampled and
    a source of one pair works), and batch ``b`` holds pairs ``b·m … (b+1)·m − 1`` of every
    source, sources in the order of ``pairs_by_source``. ``len = ⌈N / m⌉``; with ``drop_last``
    the short last batch (``N mod m`` pairs per source) is skipped, with ``fill_last`` it is
    completed with each source's first pairs of the epoch (positions wrap around mod N), so every
    batch holds exactly m pairs per source. The paper uses K = 5 sources, m = 16, N = 40 000.

    Args:
        pairs_by_source: ``{source: pairs}``; every list non-empty.
        pairs_per_source: m ≥ 1.
        resample_to: N ≥ 1 or ``None``.
        seed: seed of the per-epoch resampling.
        drop_last: skip a final batch with fewer than m pairs per source.
        fill_last: complete it instead (exclusive with ``drop_last``).

    Raises:
        ValueError: no sources, an empty source, a non-positive size, ``drop_last`` leaving
            no batch (N < m), or both ``drop_last`` and ``fill_last``.
    """

    def __init__(
        self,
        pairs_by_source: Mapping[str, Sequence[PreferencePair]],
        pairs_per_source: int = 16,
        resample_to: int | None = None,
        seed: int = 0,
        drop_last: bool = False,
        fill_last: bool = False,
    ) -> None:
        super().__init__(seed, drop_last, fill_last)
        _check_sources(pairs_by_source, resample_to, "BalancedBatchSampler")
        if pairs_per_source < 1:
            raise ValueError(f"pairs_per_source must be >= 1, got {pairs_per_source}")
        self.sources = list(pairs_by_source)
        self._pairs = [list(pairs_by_source[s]) for s in self.sources]
        self.pairs_per_source = pairs_per_source
        self.resample_to = resample_to
        self.samples_per_source = resample_to or max(len(p) for p in self._pairs)
        if len(self) == 0:
            raise ValueError(
                f"drop_last with {self.samples_per_source} pairs per source and "
                f"pairs_per_source={pairs_per_source} leaves no batch in an epoch"
            )

    def __len__(self) -> int:
        n, m = self.samples_per_source, self.pairs_per_source
        return n // m if self.drop_last else math.ceil(n / m)

    @property
    def batch_size(self) -> int:
        """Pairs in a full batch: K·m."""
        return len(self.sources) * self.pairs_per_source

    def _epoch_indices(self) -> list[np.ndarray]:
        return [
            resample_indices(len(pairs), self.samples_per_source, self._rng(i))
            for i, pairs in enumerate(self._pairs)
        ]

    def __iter__(self) -> Iterator[list[PreferencePair]]:
        indices = self._epoch_indices()
        m, n = self.pairs_per_source, self.samples_per_source

        def batch(b: int) -> list[PreferencePair]:
            end = (b + 1) * m if self.fill_last else min((b + 1) * m, n)
            positions = np.arange(b * m, end) % n
            return [
                pairs[j]
                for pairs, idx in zip(self._pairs, indices, strict=True)
                for j in idx[positions]
            ]

        return self._rest_of_epoch(batch)


class UniformBatchSampler(_EpochState):
    """Uniformly shuffled batches over a pool of pairs.

    MultiTask: the pool is the union of the sources; Single: one source.

    Each epoch is a fresh permutation of the pool cut into batches of ``batch_size``
    (``len = ⌈n / batch_size⌉``, or ``⌊n / batch_size⌋`` with ``drop_last``; with ``fill_last``
    the short last batch is completed with the permutation's first pairs). With
    :meth:`from_sources` and ``resample_to=N``, every epoch first resamples each source to ``N``
    pairs exactly like :class:`BalancedBatchSampler` (same data mix as MORE), then shuffles the
    union.

    Raises:
        ValueError: empty pool, ``batch_size < 1``, ``drop_last`` leaving no batch, or both
            ``drop_last`` and ``fill_last``.
    """

    def __init__(
        self,
        pairs: Sequence[PreferencePair],
        batch_size: int = 80,
        seed: int = 0,
        drop_last: bool = False,
        fill_last: bool = False,
    ) -> None:
        super().__init__(seed, drop_last, fill_last)
        if len(pairs) == 0:
            raise ValueError("UniformBatchSampler needs at least one pair")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self._groups: list[list[PreferencePair]] = [list(pairs)]
        self._resample_to: int | None = None
        self._check_nonempty()

    @classmethod
    def from_sources(
        cls,
        pairs_by_source: Mapping[str, Sequence[PreferencePair]],
        batch_size: int = 80,
        resample_to: int | None = None,
        **options: Unpack[EpochOptions],
    ) -> UniformBatchSampler:
        """MultiTask over several sources; ``resample_to`` = N resamples each source every epoch
        (``options``: ``seed``, ``drop_last``, ``fill_last`` as for the constructor)."""
        _check_sources(pairs_by_source, resample_to, "from_sources")
        union = [p for pairs in pairs_by_source.values() for p in pairs]
        sampler = cls(union, batch_size=batch_size, **options)
        sampler._groups = [list(p) for p in pairs_by_source.values()]
        sampler._resample_to = resample_to
        sampler._check_nonempty()
        return sampler

    def _check_nonempty(self) -> None:
        if len(self) == 0:
            raise ValueError(
                f"drop_last with {self.epoch_size} pairs per epoch and batch_size="
                f"{self.batch_size} leaves no batch in an epoch"
            )

    @property
    def epoch_size(self) -> int:
        """Pairs per epoch."""
        if self._resample_to is None:
            return sum(len(g) for g in self._groups)
        return self._resample_to * len(self._groups)

    def __len__(self) -> int:
        n = self.epoch_size
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _epoch_pool(self) -> list[PreferencePair]:
        if self._resample_to is None:
            pool = [p for g in self._groups for p in g]
        else:
            pool = [
                g[j]
                for i, g in enumerate(self._groups)
                for j in resample_indices(len(g), self._resample_to, self._rng(i))
            ]
        order = self._rng(len(self._groups)).permutation(len(pool))
        return [pool[j] for j in order]

    def __iter__(self) -> Iterator[list[PreferencePair]]:
        pool = self._epoch_pool()
        size, n = self.batch_size, len(pool)

        def batch(b: int) -> list[PreferencePair]:
            if self.fill_last:
                return [pool[j % n] for j in range(b * size, (b + 1) * size)]
            return pool[b * size : (b + 1) * size]

        return self._rest_of_epoch(batch)
