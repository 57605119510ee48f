"""One split rule for every consumer: source specs -> disjoint train / calibration / test pairs.

Training, the evaluate CLI, ``reproduce`` and RJS all call :func:`load_splits` (or its test-only
half, :func:`load_test_pairs`), so a source evaluated with the same spec and ``data_seed`` as it
was trained with gets exactly the test pairs training held out.

The rule (per source, ``data_seed`` independent of the training seed):

1. **Test pairs**, first match wins:

   * ``test_split=None``: no test pairs;
   * ``test_path``: every pair of that file / directory (the source's ``test`` split);
   * ``holdout_fraction=h``: the pairs of the training data whose prompt ``x`` has
     ``u(data_seed, x) < h``, removed from training
     (``u = int(sha256(f"{seed}|{x}")[:8]) / 2**64``, the WebGPT rule);
   * the source's own test split: the simulator's test prompts, WebGPT's seeded question split
     (the same hash, ``data_seed``), a Hub dataset's test / validation split, or the
     ``test_split`` files of a local directory;
   * a single local **file** with none of the above is an error: it would be both the training
     and the test set.

2. **Calibration pairs** (for temperature scaling; empty by default): the training pairs whose
   prompt has ``u(f"{data_seed}|calibration", x) < calibration_fraction``, removed from training.

3. **Training pairs**: the rest. Any training pair equal to a test or calibration pair (the same
   prompt, chosen and rejected text, e.g. a duplicate row across upstream splits) is removed and
   counted as ``in_held_out_split``, so the three splits never share a pair.

4. Caps: real sources keep a ``data_seed``-seeded subset of at most ``test_pairs`` test pairs
   and, with ``cap_train``, ``train_pairs`` training pairs; the simulator generates exactly that
   many (prompts of its train / test split).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.data.source_spec import SourceSpec

__all__ = [
    "HELD_OUT_DROP",
    "SIMULATOR_TEST_PAIRS",
    "SourceData",
    "SourceSplit",
    "as_test_source",
    "configured_specs",
    "drop_overlength",
    "load_source_data",
    "load_splits",
    "load_test_pairs",
    "seeded_unit",
]

SIMULATOR_TEST_PAIRS = 500
"""Simulator test pairs generated when ``test_pairs`` is ``None`` ("all")."""
HELD_OUT_DROP = "in_held_out_split"
"""Drop reason of a training pair equal to a test or calibration pair."""


def seeded_unit(seed: int | str, key: str) -> float:
    """``sha256(f"{seed}|{key}")`` mapped to [0, 1): a seeded, order-independent coin."""
    digest = hashlib.sha256(f"{seed}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class SourceSplit:
    """The pairs of one source: disjoint ``train`` / ``calibration`` / ``test`` lists."""

    train: list[PreferencePair]
    calibration: list[PreferencePair]
    test: list[PreferencePair]


@dataclass
class SourceData:
    """Pairs per source (source order = objective order), drops, and the split rule used."""

    train: dict[str, list[PreferencePair]]
    test: dict[str, list[PreferencePair]]
    drops: DropReport = field(default_factory=DropReport)
    calibration: dict[str, list[PreferencePair]] = field(default_factory=dict)
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.train)


def _is_local_file(path: str | None) -> bool:
    return path is not None and Path(path).expanduser().is_file()


def _load(
    spec: SourceSpec,
    path: str | None,
    split: str,
    max_pairs: int | None,
    data_seed: int,
    drops: DropReport,
) -> list[PreferencePair]:
    from applications.reward_models.data.sources import load_pairs

    options = dict(spec.options)
    if spec.kind == "webgpt" and spec.holdout_fraction is not None:
        # WebGPT's own split IS the holdout rule (same hash, same seed): hold out through it.
        options["test_fraction"] = spec.holdout_fraction
    read = replace(spec, path=path, split=split, options=options, test_path=None)
    return load_pairs(read, drops, max_pairs=max_pairs, seed=data_seed)


def _seeded_subset(
    pairs: list[PreferencePair], n: int | None, data_seed: int, name: str
) -> list[PreferencePair]:
    """At most ``n`` pairs (original order kept), the subset seeded by ``data_seed``."""
    if n is None or len(pairs) <= n:
        return pairs
    keep = sorted(random.Random(f"{data_seed}|{name}").sample(range(len(pairs)), n))
    return [pairs[i] for i in keep]


def _by_unit(
    pairs: list[PreferencePair], seed: int | str, fraction: float
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """``(kept, taken)``: pairs whose prompt hashes below ``fraction`` are taken."""
    kept, taken = [], []
    for p in pairs:
        (taken if seeded_unit(seed, p.prompt) < fraction else kept).append(p)
    return kept, taken


def _check_not_one_file(spec: SourceSpec) -> None:
    if _is_local_file(spec.path) and spec.kind != "webgpt":
        raise ValueError(
            f"source {spec.name!r}: {spec.path} is one file, so it would be both the training and "
            "the test set; give a separate test file (test_path) or hold out a seeded share of "
            "its prompts (holdout_fraction, e.g. 0.1), or set test_split to null for no test set"
        )


def _test_and_pool(
    spec: SourceSpec,
    data_seed: int,
    train_pairs: int | None,
    test_pairs: int | None,
    drops: DropReport,
    with_pool: bool,
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """``(test, training pool)`` by rule 1 of the module doc; the pool is empty (and not read)
    without ``with_pool``. The pool of a real source is uncapped: caps come after the held-out
    pairs are removed."""
    sim = spec.kind == "simulator"

    def pool() -> list[PreferencePair]:
        if not with_pool:
            return []
        return _load(spec, spec.path, spec.split, train_pairs if sim else None, data_seed, drops)

    if test_pairs == 0 or spec.test_split is None:
        return [], pool()
    n_test = (test_pairs or SIMULATOR_TEST_PAIRS) if sim else None
    if spec.test_path is not None:
        return _load(spec, spec.test_path, spec.test_split, None, data_seed, drops), pool()
    if spec.holdout_fraction is not None and spec.kind != "webgpt":
        everything = _load(spec, spec.path, spec.split, None, data_seed, drops)
        rest, test = _by_unit(everything, data_seed, spec.holdout_fraction)
        return test, rest if with_pool else []
    _check_not_one_file(spec)
    return _load(spec, spec.path, spec.test_split, n_test, data_seed, drops), pool()


def _texts(pair: PreferencePair) -> tuple[str, str, str]:
    return pair.prompt, pair.chosen, pair.rejected


def split_source(
    spec: SourceSpec,
    *,
    data_seed: int,
    train_pairs: int | None,
    test_pairs: int | None,
    calibration_fraction: float = 0.0,
    drops: DropReport | None = None,
) -> SourceSplit:
    """The train / calibration / test pairs of one source by the module doc's rule.

    Raises:
        ValueError: a single local file without ``test_path`` / ``holdout_fraction``, a bad
            spec, or a loader error (which names the file and line).
    """
    drops = drops if drops is not None else DropReport()
    test, pool = _test_and_pool(spec, data_seed, train_pairs, test_pairs, drops, True)
    pool, calibration = _by_unit(pool, f"{data_seed}|calibration", calibration_fraction)
    held_out = {_texts(p) for p in (*test, *calibration)}
    train = [p for p in pool if _texts(p) not in held_out]
    if len(train) < len(pool):
        drops.add(spec.name, HELD_OUT_DROP, len(pool) - len(train))
    real = spec.kind != "simulator"
    cap_train = train_pairs if real and spec.cap_train else None
    return SourceSplit(
        train=_seeded_subset(train, cap_train, data_seed, spec.name),
        calibration=calibration,
        test=_seeded_subset(test, test_pairs if real else None, data_seed, spec.name),
    )


def _check_names(specs: Sequence[SourceSpec]) -> None:
    names = [s.name for s in specs]
    if not specs:
        raise ValueError("no sources given")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicated source names: {dupes}")


def split_rule(
    specs: Sequence[SourceSpec], data_seed: int, calibration_fraction: float
) -> dict[str, Any]:
    """The split settings as written to ``metrics.json`` (``settings.split``)."""
    return {
        "data_seed": data_seed,
        "calibration_fraction": calibration_fraction,
        "test": {s.name: s.test_rule() for s in specs},
    }


def load_splits(
    specs: Sequence[SourceSpec],
    *,
    data_seed: int,
    train_pairs: int | None,
    test_pairs: int | None,
    calibration_fraction: float = 0.0,
    drops: DropReport | None = None,
) -> SourceData:
    """Train / calibration / test pairs of every source (module doc), in ``specs`` order.

    Args:
        specs: the sources (unique names).
        data_seed: seeds the simulator, the held-out / calibration prompts, WebGPT's split and
            every subset; independent of the training seed.
        train_pairs: simulator pairs generated per source; the cap of ``cap_train`` sources.
        test_pairs: test pairs per source (simulator: generated; real: seeded subset);
            ``None``: all (simulator: :data:`SIMULATOR_TEST_PAIRS`); ``0``: none.
        calibration_fraction: share of training prompts moved to the calibration split.
        drops: receives every dropped row (loader drops and ``in_held_out_split``).

    Raises:
        ValueError: no / duplicated sources, a bad fraction, or :func:`split_source`'s errors.
    """
    _check_names(specs)
    if not 0.0 <= calibration_fraction < 1.0:
        raise ValueError(f"calibration_fraction must lie in [0, 1), got {calibration_fraction}")
    drops = drops if drops is not None else DropReport()
    data = SourceData({}, {}, drops, {}, split_rule(specs, data_seed, calibration_fraction))
    for spec in specs:
        part = split_source(
            spec,
            data_seed=data_seed,
            train_pairs=train_pairs,
            test_pairs=test_pairs,
            calibration_fraction=calibration_fraction,
            drops=drops,
        )
        data.train[spec.name] = part.train
        data.calibration[spec.name] = part.calibration
        data.test[spec.name] = part.test
    return data


def load_test_pairs(
    specs: Sequence[SourceSpec],
    *,
    data_seed: int,
    test_pairs: int | None,
    drops: DropReport | None = None,
) -> dict[str, list[PreferencePair]]:
    """Only the test pairs of :func:`load_splits` (the same pairs; no training data is read
    unless a holdout needs it).

    Raises:
        ValueError: as :func:`load_splits`, or a source left without test pairs.
    """
    _check_names(specs)
    drops = drops if drops is not None else DropReport()
    out: dict[str, list[PreferencePair]] = {}
    for spec in specs:
        test, _ = _test_and_pool(spec, data_seed, None, test_pairs, drops, False)
        n_test = test_pairs if spec.kind != "simulator" else None
        test = _seeded_subset(test, n_test, data_seed, spec.name)
        if not test:
            raise ValueError(f"source {spec.name!r} has no test pairs")
        out[spec.name] = test
    return out


def as_test_source(spec: SourceSpec) -> SourceSpec:
    """``spec`` as a test set to score: a lone local file given without ``test_path`` or
    ``holdout_fraction`` is the test file itself (on the evaluate command line a file names the
    pairs to score); anything else is scored by the split rule as training held it out."""
    if _is_local_file(spec.path) and spec.holdout_fraction is None and spec.test_path is None:
        return replace(spec, path=None, test_path=spec.path)
    return spec


def configured_specs(config: Any) -> list[SourceSpec]:
    """``config.sources`` (a list of :class:`SourceSpec`), or every default simulator source
    when it is empty; ``config`` is a job's config with the data sections."""
    if config.sources:
        return list(config.sources)
    from applications.reward_models.data.simulator import PreferenceSimulator

    return [SourceSpec(name=n) for n in PreferenceSimulator(config.simulator_seed).source_names]


def drop_overlength(data: SourceData, tokenizer: Any, max_length: int) -> None:
    """Remove, in place, every pair of ``data`` that does not fit in ``max_length`` tokens;
    counted in ``data.drops`` (reasons of calibration / test pairs marked as such)."""
    from applications.reward_models.data.collate import filter_overlength

    parts = ((data.train, ""), (data.calibration, " (calibration)"), (data.test, " (test)"))
    for part, suffix in parts:
        for name, pairs in part.items():
            local = DropReport()
            part[name] = filter_overlength(pairs, tokenizer, max_length, local)
            for (src, reason), n in local.counts.items():
                data.drops.add(src, reason + suffix, n)


def load_source_data(config: Any, tokenizer: Any) -> SourceData:
    """:func:`load_splits` for a training config, over-length pairs dropped and counted.

    ``config`` needs ``sources`` (:class:`SourceSpec`), ``simulator_seed``
    (the data seed), ``train_pairs_per_source``, ``test_pairs_per_source`` (0: all pairs of real
    sources, none of simulator sources),
    ``max_length`` and optionally ``calibration_fraction``. The training seed is not used.

    Raises:
        ValueError: a source with no training pair left after filtering, or a split error.
    """
    specs = configured_specs(config)
    if not config.test_pairs_per_source:
        # 0 means "all" test pairs: every pair of a real source, none of the endless simulator.
        specs = [replace(s, test_split=None) if s.kind == "simulator" else s for s in specs]
    data = load_splits(
        specs,
        data_seed=config.simulator_seed,
        train_pairs=config.train_pairs_per_source,
        test_pairs=config.test_pairs_per_source or None,
        calibration_fraction=getattr(config, "calibration_fraction", 0.0),
    )
    drop_overlength(data, tokenizer, config.max_length)
    for name, pairs in data.train.items():
        if not pairs:
            raise ValueError(
                f"source {name!r} has no training pair left "
                f"(max_length={config.max_length}; drops: {data.drops.for_source(name)})"
            )
    return data
