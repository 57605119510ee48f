"""Settings of the calibration study (``python -m applications.reward_models.study``)."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

from applications.reward_models.data.simulator import SIMULATOR_PRESETS

__all__ = ["DEFAULT_SCHEMES", "StudyConfig", "parse_args"]

# balanced_uniform (MORE's balanced batches, λ fixed uniform) separates the effect of λ from the
# effect of balancing; ``more`` is compared with every other scheme.
DEFAULT_SCHEMES: tuple[str, ...] = ("multitask", "more", "balanced_uniform")


@dataclass(frozen=True)
class StudyConfig:
    """What to train, on which data, and how to measure it.

    Attributes:
        seeds: number of training seeds (0, 1, ...); every scheme trains once per seed on the
            same data.
        schemes: trainer schemes to compare (``more`` is compared with each of the others).
        simulator: simulator preset (``domains``: the over-rewarding regime; ``classic``).
        simulator_seed: data seed (fixed across training seeds).
        train_pairs, calibration_pairs, test_pairs: pairs per source; calibration pairs are
            further train-split pairs (disjoint from training and test pairs, checked).
        model, trainable_blocks, max_steps, pairs_per_source, learning_rate, max_length:
            passed to the trainer.
        n_bins, n_boot, n_sim: ECE bins, bootstrap replicates, noise-floor simulations.
        output_dir: where ``study.json``, ``study.md`` and the runs go.
    """

    seeds: int = 5
    schemes: tuple[str, ...] = DEFAULT_SCHEMES
    simulator: str = "domains"
    simulator_seed: int = 0
    train_pairs: int = 1000
    calibration_pairs: int = 50
    test_pairs: int = 100
    model: str = "minilm"
    trainable_blocks: int | None = 2
    max_steps: int = 100
    pairs_per_source: int = 4
    learning_rate: float = 5e-4
    max_length: int = 192
    n_bins: int = 10
    n_boot: int = 1000
    n_sim: int = 1000
    output_dir: str = "outputs/study"

    def __post_init__(self) -> None:
        if self.simulator not in SIMULATOR_PRESETS:
            raise ValueError(
                f"unknown simulator {self.simulator!r}; valid: {', '.join(SIMULATOR_PRESETS)}"
            )
        for name in ("seeds", "train_pairs", "calibration_pairs", "test_pairs", "max_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if len(set(self.schemes)) != len(self.schemes) or not self.schemes:
            raise ValueError(f"schemes must be distinct and non-empty, got {self.schemes}")


def parse_args(argv: list[str] | None = None) -> StudyConfig:
    """``--field value`` for every :class:`StudyConfig` field (``--schemes a,b``)."""
    parser = argparse.ArgumentParser(
        prog="python -m applications.reward_models.study",
        description="Calibration study: MultiTask vs MORE with CIs, noise floors, temperatures.",
    )
    defaults = StudyConfig()
    for f in dataclasses.fields(StudyConfig):
        value = getattr(defaults, f.name)
        if f.name == "schemes":
            kind = lambda s: tuple(x for x in s.split(",") if x)  # noqa: E731
        elif f.name == "trainable_blocks":
            kind = lambda s: None if s.lower() in ("none", "null") else int(s)  # noqa: E731
        else:
            kind = type(value)
        parser.add_argument(f"--{f.name}", type=kind, default=value, help=f"(default {value})")
    return StudyConfig(**vars(parser.parse_args(argv)))
