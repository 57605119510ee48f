"""The study's data: per source, training, calibration and test pairs.

Training pairs are the first ``train_pairs`` of the source's train split (prefix-stable in the
simulator). The **held-out-task** pairs (the test split: tasks never seen in training) are split
by prompt into two halves (:func:`split_held_out`): the **calibration half** fits the
temperature, the **test half** is scored. Both halves come from the same held-out tasks, so the
temperature is fit on the distribution it is applied to (a temperature fit on training prompts
and applied to held-out tasks mis-scales a model that generalizes differently), and no prompt,
hence no pair, is in both (checked by
:func:`~applications.reward_models.evaluation.temperature.check_disjoint`, and against the
training pairs too).

Real sources (``--sources``) go through the project's split rule
(:func:`~applications.reward_models.data.splits.load_splits`), over-length pairs dropped and
counted; their held-out pairs are halved the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.data.simulator import SIMULATOR_PRESETS
from applications.reward_models.evaluation.temperature import check_disjoint

__all__ = ["StudySplits", "build_splits", "load_study_splits", "split_held_out"]


@dataclass(frozen=True)
class StudySplits:
    """Pairs per source (source order = objective order); ``removed``: calibration pairs
    dropped because their texts also occur among training or test pairs."""

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


def _in_calibration_half(prompt: str, seed: int) -> bool:
    digest = hashlib.sha256(f"study-calibration|{seed}|{prompt}".encode()).digest()
    return digest[0] % 2 == 0


def split_held_out(
    held_out: Sequence[PreferencePair], train: Sequence[PreferencePair], seed: int
) -> tuple[list[PreferencePair], list[PreferencePair], int]:
    """``(calibration, test, removed)``: the held-out pairs split by a seeded hash of the prompt.

    A calibration pair whose (prompt, chosen, rejected) also occurs in the test half or among
    the training pairs is removed (and counted); the result is checked disjoint.
    """
    cal = [p for p in held_out if _in_calibration_half(p.prompt, seed)]
    test = [p for p in held_out if not _in_calibration_half(p.prompt, seed)]
    seen = {_key(p) for p in test} | {_key(p) for p in train}
    kept = [p for p in cal if _key(p) not in seen]
    check_disjoint(kept, train=train, test=test)
    return kept, test, len(cal) - len(kept)


def build_splits(simulator: str, seed: int, train_pairs: int, held_out_pairs: int) -> StudySplits:
    """Training pairs and the calibration / test halves of ``held_out_pairs`` held-out-task
    pairs, for every source of the ``simulator`` preset with data seed ``seed``."""
    sim = SIMULATOR_PRESETS[simulator](seed)
    train, calibration, test, removed = {}, {}, {}, {}
    for name in sim.source_names:
        train[name] = sim.pairs(name, train_pairs, "train")
        held_out = sim.pairs(name, held_out_pairs, "test")
        calibration[name], test[name], removed[name] = split_held_out(held_out, train[name], seed)
        if not calibration[name] or not test[name]:
            raise ValueError(
                f"source {name!r}: {held_out_pairs} held-out pairs gave "
                f"{len(calibration[name])} calibration and {len(test[name])} test pairs"
            )
    return StudySplits(train, calibration, test, removed)


def _real_splits(config: Any, tokenizer: Any, data_seed: int) -> StudySplits:
    from applications.reward_models.data.splits import (
        configured_specs,
        drop_overlength,
        load_splits,
    )

    data = load_splits(
        configured_specs(config),
        data_seed=data_seed,
        train_pairs=config.train_pairs,
        test_pairs=config.held_out_pairs,
    )
    drop_overlength(data, tokenizer, config.max_length)
    calibration, test, removed = {}, {}, {}
    for name in data.train:
        calibration[name], test[name], removed[name] = split_held_out(
            data.test[name], data.train[name], data_seed
        )
        sizes = {"train": len(data.train[name]), "calibration": len(calibration[name])}
        sizes["test"] = len(test[name])
        if not all(sizes.values()):
            raise ValueError(
                f"source {name!r}: {sizes} pairs; the study needs training, calibration and test"
                f" pairs (drops: {data.drops.for_source(name)})"
            )
    return StudySplits(data.train, calibration, test, removed, data.drops.to_dict())


def load_study_splits(config: Any, tokenizer: Any, data_seed: int) -> StudySplits:
    """The pairs of ``config.sources`` (real data), else of the ``config.simulator`` preset,
    drawn with ``data_seed``."""
    if config.sources:
        return _real_splits(config, tokenizer, data_seed)
    return build_splits(config.simulator, data_seed, config.train_pairs, config.held_out_pairs)
