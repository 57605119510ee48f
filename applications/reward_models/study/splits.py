"""The study's data: per source, training, calibration and test pairs.

Real sources (``--sources``) go through the project's one split rule
(:func:`~applications.reward_models.data.splits.load_splits`: test split or held-out prompts,
calibration prompts drawn with the data seed and removed from training), over-length pairs
dropped and counted. Without sources, the simulator preset generates the pairs:

Training pairs are the first ``train_pairs`` of the source's train split, calibration pairs the
next ``calibration_pairs`` (the simulator is prefix-stable, so training data does not depend on
the calibration size), test pairs come from the test split (disjoint prompts). A calibration
pair whose texts also occur among the training or test pairs is removed and counted, and the
result is checked with :func:`~applications.reward_models.evaluation.temperature.check_disjoint`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.data.simulator import SIMULATOR_PRESETS
from applications.reward_models.evaluation.temperature import check_disjoint

__all__ = ["StudySplits", "build_splits", "load_study_splits"]


@dataclass(frozen=True)
class StudySplits:
    """Pairs per source (source order = objective order); ``removed``: calibration duplicates."""

    train: dict[str, list[PreferencePair]]
    calibration: dict[str, list[PreferencePair]]
    test: dict[str, list[PreferencePair]]
    removed: dict[str, int]
    drops: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.train)


def _key(p: PreferencePair) -> tuple[str, str, str]:
    return (p.prompt, p.chosen, p.rejected)


def build_splits(
    simulator: str, seed: int, train_pairs: int, calibration_pairs: int, test_pairs: int
) -> StudySplits:
    """Training / calibration / test pairs of every source of the ``simulator`` preset."""
    sim = SIMULATOR_PRESETS[simulator](seed)
    train, calibration, test, removed = {}, {}, {}, {}
    for name in sim.source_names:
        pool = sim.pairs(name, train_pairs + calibration_pairs, "train")
        tr, te = pool[:train_pairs], sim.pairs(name, test_pairs, "test")
        seen = {_key(p) for p in tr} | {_key(p) for p in te}
        cal = [p for p in pool[train_pairs:] if _key(p) not in seen]
        check_disjoint(cal, train=tr, test=te)
        train[name], calibration[name], test[name] = tr, cal, te
        removed[name] = calibration_pairs - len(cal)
    return StudySplits(train, calibration, test, removed)


def _real_splits(config: Any, tokenizer: Any) -> StudySplits:
    from applications.reward_models.data.splits import (
        configured_specs,
        drop_overlength,
        load_splits,
    )

    data = load_splits(
        configured_specs(config),
        data_seed=config.simulator_seed,
        train_pairs=config.train_pairs,
        test_pairs=config.test_pairs,
        calibration_fraction=config.calibration_fraction,
    )
    drop_overlength(data, tokenizer, config.max_length)
    for name in data.train:
        sizes = {k: len(getattr(data, k)[name]) for k in ("train", "calibration", "test")}
        if not all(sizes.values()):
            raise ValueError(
                f"source {name!r}: {sizes} pairs; the study needs training, calibration and test"
                f" pairs (drops: {data.drops.for_source(name)})"
            )
        check_disjoint(data.calibration[name], train=data.train[name], test=data.test[name])
    removed = {n: 0 for n in data.train}
    return StudySplits(data.train, data.calibration, data.test, removed, data.drops.to_dict())


def load_study_splits(config: Any, tokenizer: Any) -> StudySplits:
    """The pairs of ``config.sources`` (real data), else of the ``config.simulator`` preset."""
    if config.sources:
        return _real_splits(config, tokenizer)
    return build_splits(
        config.simulator,
        config.simulator_seed,
        config.train_pairs,
        config.calibration_pairs,
        config.test_pairs,
    )
