"""The study's data: per source, training, calibration and test pairs from one simulator.

Training pairs are the first ``train_pairs`` of the source's train split, calibration pairs the
next ``calibration_pairs`` (the simulator is prefix-stable, so training data does not depend on
the calibration size), test pairs come from the test split (disjoint prompts). A calibration
pair whose texts also occur among the training or test pairs is removed and counted, and the
result is checked with :func:`~applications.reward_models.evaluation.temperature.check_disjoint`.
"""

from __future__ import annotations

from dataclasses import dataclass

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.data.simulator import SIMULATOR_PRESETS
from applications.reward_models.evaluation.temperature import check_disjoint

__all__ = ["StudySplits", "build_splits"]


@dataclass(frozen=True)
class StudySplits:
    """Pairs per source (source order = objective order); ``removed``: calibration duplicates."""

    train: dict[str, list[PreferencePair]]
    calibration: dict[str, list[PreferencePair]]
    test: dict[str, list[PreferencePair]]
    removed: dict[str, int]

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
