"""Options of the calibration study (``python -m applications.reward_models.study``).

Parsed by :mod:`applications.reward_models.cli` like every other entry point: ``--config
file.yaml``, ``--output_dir``, underscores, per-option help. Budgets are stated in
``docs/reward-models/study.md`` (the default finishes within 30 minutes on 2 CPU cores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from applications.reward_models.cli import ConfigError, at_least, one_of, option, parse, positive
from applications.reward_models.training.config import SourceConfig, parse_source

__all__ = [
    "ABLATION_NAMES",
    "BACKBONES",
    "DEFAULT_SCHEMES",
    "STUDY_SCHEMES",
    "StudyConfig",
    "parse_args",
]

PROG = "python -m applications.reward_models.study"
DESCRIPTION = (
    "Calibration study: MultiTask vs MORE vs balanced-uniform over seeds on the same data, with "
    "noise floors, temperature scaling and paired bootstrap CIs; writes study.json and study.md."
)

# balanced_uniform (MORE's balanced batches, λ fixed uniform) separates the effect of λ from the
# effect of balancing; ``more`` is compared with every other scheme.
DEFAULT_SCHEMES: tuple[str, ...] = ("multitask", "more", "balanced_uniform")
STUDY_SCHEMES: tuple[str, ...] = ("multitask", "more", "balanced_uniform", "single")
"""``single`` trains one model per source (on that source alone)."""
ABLATION_NAMES: tuple[str, ...] = ("one_pair", "ema", "no_normalization", "more_pairs")
"""MORE variants (see :mod:`.variants`): λ from one pair per source; EMA α = 0.1; no gradient
normalization; 4× pairs per source per step (MultiTask is trained at the same batch too)."""
BACKBONES: tuple[str, ...] = ("frozen", "finetune")
"""``frozen``: the backbone's features are computed once and only the reward head trains (fast);
``finetune``: the full trainer, last ``trainable_blocks`` blocks trained (slow on CPU)."""


def _names(value: str) -> list[str]:
    """``a,b`` or ``a`` (the flag also takes space-separated values)."""
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _presets() -> Sequence[str]:
    from applications.reward_models.data.simulator import SIMULATOR_PRESETS

    return tuple(SIMULATOR_PRESETS)


@dataclass
class StudyConfig:
    """What to train, on which data, and how to measure it (see each option's help)."""

    seeds: int = option(
        5, help="training seeds 0..n-1; every scheme trains once per seed", check=positive
    )
    schemes: list[str] = option(
        factory=lambda: list(DEFAULT_SCHEMES),
        help="schemes to compare (more is compared with each other one)",
        parse=_names,
        check=one_of(lambda: STUDY_SCHEMES),
    )
    ablations: list[str] = option(
        factory=list,
        help="MORE variants to add: one_pair, ema, no_normalization, more_pairs",
        parse=_names,
        check=one_of(lambda: ABLATION_NAMES),
    )
    sources: list[SourceConfig] = option(
        factory=list,
        parse=parse_source,
        metavar="NAME[:KIND[:PATH]]",
        help="real preference sources (as in train); empty: the simulator preset's sources",
    )
    simulator: str = option(
        "domains",
        help="simulator preset (domains: the over-rewarding regime)",
        check=one_of(_presets),
    )
    simulator_seed: int = option(0, help="data seed: fixed across training seeds")
    train_pairs: int = option(1000, help="training pairs per source (real: cap)", check=positive)
    calibration_pairs: int = option(
        300, help="simulator: calibration pairs per source (temperature fit)", check=positive
    )
    calibration_fraction: float = option(
        0.1, help="real sources: share of training prompts held out for the temperature fit"
    )
    test_pairs: int = option(2000, help="test pairs per source", check=positive)
    curve_pairs: int = option(
        200,
        help="test pairs per source scored every eval_every steps (ECE-vs-step curves)",
        check=at_least(0),
    )
    eval_every: int = option(25, help="steps between curve points", check=positive)
    backbone: str = option(
        "frozen",
        help="frozen (head on cached features) or finetune",
        check=one_of(lambda: BACKBONES),
    )
    model: str = option("minilm", help="backbone: minilm, smollm2, a local directory or hub id")
    trainable_blocks: int | None = option(2, help="finetune: blocks trained (null: all)")
    max_steps: int = option(300, help="optimizer steps per model", check=positive)
    pairs_per_source: int = option(
        4, help="m: a step holds K x m pairs for every scheme", check=positive
    )
    learning_rate: float = option(
        3e-3,
        help="AdamW learning rate (frozen: of the head on standardized features; for finetune "
        "pass the trainer's 5e-4)",
        check=positive,
    )
    resample_to: int | None = option(
        None, help="resample every source to this many pairs (null: the largest, if sizes differ)"
    )
    max_length: int = option(192, help="token budget of prompt + response", check=positive)
    eval_batch_size: int = option(
        64, help="pairs per forward pass when encoding / scoring", check=positive
    )
    n_bins: int = option(
        10, help="ECE bins of the headline numbers (5/10/20 also reported)", check=positive
    )
    n_boot: int = option(1000, help="bootstrap replicates of every CI", check=positive)
    n_sim: int = option(1000, help="simulations of every noise floor", check=positive)
    feature_cache: str | None = option(
        None, help="frozen: file of cached features (null: <output_dir>/features.pt)"
    )
    progress: bool = option(True, help="show progress bars")
    output_dir: str = option("outputs/study", help="where study.json, study.md and plots go")

    def validate(self) -> StudyConfig:
        """Cross-option checks."""
        if len(set(self.schemes)) != len(self.schemes) or not self.schemes:
            raise ConfigError(f"--schemes must be distinct and non-empty, got {self.schemes}")
        if self.ablations and "more" not in self.schemes:
            raise ConfigError("--ablations are MORE variants: add more to --schemes")
        if not 0.0 < self.calibration_fraction < 1.0:
            raise ConfigError(
                f"--calibration_fraction must be in (0, 1), got {self.calibration_fraction}"
            )
        if self.curve_pairs > self.test_pairs:
            raise ConfigError(
                f"--curve_pairs ({self.curve_pairs}) > --test_pairs ({self.test_pairs})"
            )
        return self


def parse_args(argv: Sequence[str] | None = None) -> StudyConfig:
    """``argv`` (default ``sys.argv[1:]``) → checked :class:`StudyConfig`.

    Raises:
        ConfigError: see :func:`..cli.parse`.
    """
    return parse(StudyConfig, argv, PROG, DESCRIPTION)
