"""Balanced and uniform batch samplers: composition, resampling, exact resume."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from applications.reward_models.data import (
    BalancedBatchSampler,
    PreferencePair,
    UniformBatchSampler,
    resample_indices,
)


def _pairs(source: str, n: int) -> list[PreferencePair]:
    return [PreferencePair(f"p{i}", f"c{i}", f"r{i}", source) for i in range(n)]


def _by_source(**sizes: int) -> dict[str, list[PreferencePair]]:
    return {name: _pairs(name, n) for name, n in sizes.items()}


@given(st.integers(1, 50), st.integers(0, 200), st.integers(0, 2**32))
def test_resample_indices_is_stratified(n: int, target: int, seed: int) -> None:
    idx = resample_indices(n, target, np.random.default_rng(seed))
    assert len(idx) == target and (idx >= 0).all() and (idx < n).all()
    counts = np.bincount(idx, minlength=n)
    assert counts.min() >= target // n and counts.max() <= -(-target // n)


def test_balanced_batches_have_m_pairs_per_source() -> None:
    sampler = BalancedBatchSampler(_by_source(a=100, b=7, c=1), pairs_per_source=16, seed=3)
    assert len(sampler) == 7 and sampler.batch_size == 48  # N = 100 → ⌈100/16⌉
    batches = list(sampler)
    assert len(batches) == 7
    for batch in batches[:-1]:
        assert collections.Counter(p.source for p in batch) == {"a": 16, "b": 16, "c": 16}
        assert [p.source for p in batch] == ["a"] * 16 + ["b"] * 16 + ["c"] * 16
    assert collections.Counter(p.source for p in batches[-1]) == {"a": 4, "b": 4, "c": 4}
    # the largest source is seen exactly once per epoch, the smaller ones upsampled evenly
    seen = collections.Counter(p.prompt for b in batches for p in b if p.source == "a")
    assert set(seen.values()) == {1} and len(seen) == 100
    seen_b = collections.Counter(p.prompt for b in batches for p in b if p.source == "b")
    assert set(seen_b.values()) <= {14, 15}
    assert sampler.state_dict() == {"seed": 3, "epoch": 1, "position": 0}


def test_balanced_resample_to_and_drop_last() -> None:
    sampler = BalancedBatchSampler(_by_source(a=5, b=50), 4, resample_to=10, drop_last=True)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 2 and all(len(b) == 8 for b in batches)
    # a one-pair source, and any sizes, work
    tiny = BalancedBatchSampler(_by_source(a=1), pairs_per_source=16, resample_to=40_000)
    first = next(iter(tiny))
    assert len(first) == 16 and len(tiny) == 2500


def test_epochs_differ_and_seeds_differ() -> None:
    s = BalancedBatchSampler(_by_source(a=64, b=64), 8, seed=0)
    e0, e1 = list(s), list(s)
    assert e0 != e1
    assert e0 == list(BalancedBatchSampler(_by_source(a=64, b=64), 8, seed=0))
    assert e0 != list(BalancedBatchSampler(_by_source(a=64, b=64), 8, seed=1))


def _consume(sampler, n: int) -> list[list[PreferencePair]]:
    out: list[list[PreferencePair]] = []
    while len(out) < n:
        for batch in sampler:
            out.append(batch)
            if len(out) == n:
                break
    return out


@pytest.mark.parametrize("kind", ["balanced", "uniform", "uniform_sources"])
@pytest.mark.parametrize("stop", [1, 3, 5, 9])
def test_resume_yields_the_same_remaining_batches(kind: str, stop: int) -> None:
    def make():
        data = _by_source(a=20, b=9, c=3)
        if kind == "balanced":
            return BalancedBatchSampler(data, 4, seed=7)
        if kind == "uniform":
            return UniformBatchSampler([p for v in data.values() for p in v], 6, seed=7)
        return UniformBatchSampler.from_sources(data, 6, resample_to=10, seed=7)

    reference = _consume(make(), 14)  # crosses epoch boundaries
    first = make()
    head = _consume(first, stop)
    state = first.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    assert head + _consume(resumed, 14 - stop) == reference


def test_load_state_dict_rejects_another_seed() -> None:
    s = UniformBatchSampler(_pairs("a", 10), 3, seed=1)
    with pytest.raises(ValueError, match="seed"):
        UniformBatchSampler(_pairs("a", 10), 3, seed=2).load_state_dict(s.state_dict())


def test_uniform_is_a_permutation_per_epoch() -> None:
    pairs = _pairs("a", 23)
    s = UniformBatchSampler(pairs, batch_size=5, seed=0)
    batches = list(s)
    assert len(batches) == len(s) == 5 and [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert sorted(p.prompt for b in batches for p in b) == sorted(p.prompt for p in pairs)
    assert len(UniformBatchSampler(pairs, 5, drop_last=True)) == 4


def test_uniform_from_sources_mixes_like_balanced() -> None:
    s = UniformBatchSampler.from_sources(_by_source(a=100, b=2), batch_size=10, resample_to=50)
    assert s.epoch_size == 100 and len(s) == 10
    counts = collections.Counter(p.source for b in s for p in b)
    assert counts == {"a": 50, "b": 50}
    plain = UniformBatchSampler.from_sources(_by_source(a=100, b=2), batch_size=10)
    assert plain.epoch_size == 102


@pytest.mark.parametrize(
    "build",
    [
        lambda: BalancedBatchSampler({}),
        lambda: BalancedBatchSampler({"a": []}),
        lambda: BalancedBatchSampler(_by_source(a=3), pairs_per_source=0),
        lambda: BalancedBatchSampler(_by_source(a=3), resample_to=0),
        lambda: UniformBatchSampler([]),
        lambda: UniformBatchSampler(_pairs("a", 2), batch_size=0),
        lambda: UniformBatchSampler.from_sources({"a": []}),
        lambda: UniformBatchSampler(_pairs("a", 2), batch_size=3, drop_last=True),
        lambda: BalancedBatchSampler(_by_source(a=3), 4, drop_last=True),
        lambda: BalancedBatchSampler(_by_source(a=3), 2, drop_last=True, fill_last=True),
        lambda: UniformBatchSampler(_pairs("a", 2), 1, drop_last=True, fill_last=True),
        lambda: UniformBatchSampler.from_sources(
            _by_source(a=3), 2, fill_last=True, drop_last=True
        ),
        lambda: UniformBatchSampler.from_sources(_by_source(a=3), resample_to=0),
        lambda: UniformBatchSampler.from_sources({}),
    ],
)
def test_invalid_arguments_raise(build) -> None:
    with pytest.raises(ValueError):
        build()


@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=4),
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 20)),
    st.integers(0, 25),
    st.booleans(),
)
def test_balanced_resume_property(sizes, m, resample_to, stop, drop_last) -> None:
    data = {f"s{i}": _pairs(f"s{i}", n) for i, n in enumerate(sizes)}

    def make() -> BalancedBatchSampler:
        return BalancedBatchSampler(data, m, resample_to=resample_to, seed=5, drop_last=drop_last)

    if drop_last and (resample_to or max(sizes)) < m:  # an epoch would have no batch
        with pytest.raises(ValueError, match="no batch"):
            make()
        return
    total = stop + 7
    reference = _consume(make(), total)
    first = make()
    _consume(first, stop)
    resumed = make()
    resumed.load_state_dict(first.state_dict())
    assert _consume(resumed, total - stop) == reference[stop:]
    for batch in reference:
        per_source = collections.Counter(p.source for p in batch)
        assert set(per_source) == set(data) and len(set(per_source.values())) == 1


@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=4),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 2**16),
)
def test_fill_last_gives_full_batches_that_split_evenly(sizes, m, world, seed) -> None:
    # every batch of every epoch is full (m pairs per source, K·m pairs), so W ranks dividing
    # the batch each get an equal, non-empty share; the filled tail repeats the epoch's start
    by_source = {f"s{i}": _pairs(f"s{i}", n) for i, n in enumerate(sizes)}
    balanced = BalancedBatchSampler(by_source, pairs_per_source=m, seed=seed, fill_last=True)
    uniform = UniformBatchSampler.from_sources(
        by_source, batch_size=len(sizes) * m, seed=seed, fill_last=True
    )
    for sampler in (balanced, uniform):
        for _epoch in range(2):
            batches = list(sampler)
            assert len(batches) == len(sampler)
            assert all(len(b) == len(sizes) * m for b in batches)
            if sampler is uniform:  # the filled tail repeats pairs of the epoch's start
                flat = [p for b in batches for p in b]
                assert {id(p) for p in flat} == {id(p) for p in flat[: sampler.epoch_size]}
            if (len(sizes) * m) % world == 0:
                shares = [[b[r::world] for b in batches] for r in range(world)]
                assert {len(s) for rank in shares for s in rank} == {len(sizes) * m // world}
    for batch in BalancedBatchSampler(by_source, m, seed=seed, fill_last=True):
        counts = collections.Counter(p.source for p in batch)
        assert set(counts.values()) == {m}


def test_fill_last_wraps_to_the_epoch_start() -> None:
    sampler = UniformBatchSampler(_pairs("a", 5), batch_size=4, seed=0, fill_last=True)
    first, last = list(sampler)
    assert last[1:] == first[:3]
    balanced = BalancedBatchSampler(_by_source(a=3, b=1), pairs_per_source=2, fill_last=True)
    one, two = list(balanced)
    assert two[1] == one[0]  # source a: positions 2, then 0 again
    assert [p.prompt for p in two[2:]] == ["p0", "p0"]  # b (1 pair) repeats
    with pytest.raises(ValueError, match="exclude each other"):
        UniformBatchSampler(_pairs("a", 5), batch_size=4, drop_last=True, fill_last=True)


def test_from_sources_passes_seed_and_last_batch_options_on() -> None:
    data = _by_source(a=5, b=2)
    sampler = UniformBatchSampler.from_sources(data, batch_size=3, seed=11, drop_last=True)
    assert (sampler.seed, sampler.drop_last, sampler.fill_last) == (11, True, False)
    assert len(sampler) == 2 and all(len(b) == 3 for b in sampler)
    assert sampler.state_dict() == {"seed": 11, "epoch": 1, "position": 0}
    with pytest.raises(TypeError, match="seed must be an int"):
        UniformBatchSampler.from_sources(data, seed=1.5)  # type: ignore[arg-type]


def test_state_counts_the_batch_being_consumed() -> None:
    # position counts a batch as yielded when it is handed out: a checkpoint taken while batch b
    # is in use resumes at b + 1 (both samplers share this bookkeeping).
    for sampler in (
        BalancedBatchSampler(_by_source(a=4, b=4), 1, seed=3),
        UniformBatchSampler.from_sources(_by_source(a=4, b=4), batch_size=2, seed=3),
    ):
        batches = iter(sampler)
        next(batches)
        assert sampler.state_dict()["position"] == 1
        rest = list(batches)
        assert len(rest) == len(sampler) - 1
        assert sampler.state_dict() == {"seed": 3, "epoch": 1, "position": 0}
