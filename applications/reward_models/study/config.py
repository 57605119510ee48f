"""Options of the calibration study (``python -m applications.reward_models.study``).

Parsed by :mod:`applications.reward_models.cli` like every other entry point: ``--config
file.yaml``, ``--output_dir``, underscores, per-option help. Presets live in
``applications/reward_models/configs/study/`` (``smoke``, ``domains``, ``finetune``); budgets
are stated in ``docs/reward-models/study.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from applications.reward_models.cli import ConfigError, at_least, one_of, option, parse, positive
from applications.reward_models.data.source_spec import SourceSpec, check_sources, parse_source
from applications.reward_models.sections import ModelConfig, OptimConfig, ScoringConfig

__all__ = ["BACKBONES", "FINETUNE_ONLY", "StudyConfig", "parse_args"]

PROG = "python -m applications.reward_models.study"
DESCRIPTION = (
    "Calibration study: MultiTask vs MORE vs balanced-uniform (and MORE's variants) over "
    "training and data seeds, a shared MLP body on cached features; crossed paired bootstrap, "
    "equivalence margin, Holm; writes study.json and study.md."
)
BACKBONES: tuple[str, ...] = ("frozen", "finetune")
"""``frozen``: backbone features cached, a shared MLP body and a head train (fast);
``finetune``: the full trainer, the last ``trainable_blocks`` blocks trained (slow on CPU)."""


def _names(value: str) -> list[str]:
    """``a,b`` or ``a`` (the flag also takes space-separated values)."""
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _widths(value: str) -> list[int]:
    return [int(part) for part in _names(value)]


def _presets() -> Sequence[str]:
    from applications.reward_models.data.simulator import SIMULATOR_PRESETS

    return tuple(SIMULATOR_PRESETS)


def _variant_names() -> Sequence[str]:
    from applications.reward_models.study.variants import VARIANTS

    return tuple(VARIANTS)


def _default_variants() -> list[str]:
    from applications.reward_models.study.variants import DEFAULT_VARIANTS

    return list(DEFAULT_VARIANTS)


FINETUNE_ONLY: tuple[str, ...] = (
    "trainable_blocks",
    "dropout",
    "gradient_checkpointing",
    "gradient_accumulation_steps",
    "mixed_precision",
    "lr_scheduler_type",
)
"""Options of the shared sections that only ``--backbone finetune`` (the trainer) uses: the
frozen path trains an MLP on cached features, one batch a step, in float32, on its own linear
schedule (:mod:`.regime`), so it refuses a value other than the section's default."""


@dataclass(kw_only=True)
class StudyConfig(OptimConfig, ScoringConfig, ModelConfig):
    """What to train, on which data, and how to measure it (see each option's help): the shared
    sections (:class:`~..sections.ModelConfig`, :class:`~..sections.ScoringConfig`,
    :class:`~..sections.OptimConfig`), with the study's own defaults where it needs another
    value (said in the option's help), and the options of the study alone."""

    seeds: int = option(10, help="training seeds 0..n-1 per data seed", check=positive)
    data_seeds: int = option(2, help="data seeds 0..n-1 (simulator draws)", check=positive)
    variants: list[str] = option(
        factory=_default_variants,
        help="variants (study/variants.py); unregistered weightings are skipped with a note",
        parse=_names,
        check=one_of(_variant_names),
    )
    sources: list[SourceSpec] = option(
        factory=list,
        parse=parse_source,
        metavar="NAME[:KIND[:PATH]]",
        help="real preference sources (as in train); empty: the simulator preset's sources",
    )
    simulator: str = option(
        "classic",
        help="simulator preset (classic: verbose/concise/noisy conflict on shared prompts)",
        check=one_of(_presets),
    )
    train_pairs: int = option(600, help="training pairs per source (real: cap)", check=positive)
    held_out_pairs: int = option(
        1000,
        help="held-out-task pairs per source, split by prompt into calibration / test halves",
        check=at_least(4),
    )
    curve_pairs: int = option(
        100, help="calibration pairs per source scored every eval_every steps", check=at_least(0)
    )
    eval_every: int = option(100, help="steps between curve points", check=positive)
    backbone: str = option(
        "frozen", help="frozen (cached features + MLP body) or finetune",
        check=one_of(lambda: BACKBONES),
    )  # fmt: skip
    hidden: list[int] = option(
        factory=lambda: [128, 32], help="MLP body widths", parse=_widths, check=None
    )
    max_steps: int = option(
        800,
        help="optimizer steps per model (study: 800, ~21 epochs of 600 pairs per source at "
        "m = 16, as the MLP body trains from scratch; train's 100 is a quick head run)",
        check=positive,
    )
    pairs_per_source: int = option(
        16,
        help="m: a step holds K x m pairs (study: 16, the official code's pairs per source a "
        "step, which more_official's 16 one-pair micro-batches need)",
        check=positive,
    )
    learning_rate: float = option(
        1e-3,
        help="AdamW learning rate (study: 1e-3 for the MLP body from scratch on standardized "
        "features; the finetune preset sets 2e-5)",
        check=positive,
    )
    n_bins: int = option(10, help="ECE bins", check=positive)
    n_boot: int = option(1000, help="crossed bootstrap replicates", check=positive)
    n_sim: int = option(200, help="simulations of every noise floor", check=positive)
    margin: float = option(0.005, help="equivalence margin of ΔECE", check=at_least(0))
    alpha: float = option(0.05, help="test level (primary: unadjusted; others: Holm)")
    gate_temperature: float = option(1.1, help="validity gate: MultiTask's T must exceed this")
    gate_floor_ratio: float = option(
        2.0, help="validity gate: MultiTask's ECE must be >= this x its noise floor"
    )
    feature_cache: str | None = option(
        None, help="frozen: file of cached features (null: <output_dir>/features.pt)"
    )
    progress: bool = option(True, help="show progress bars")
    output_dir: str = option("outputs/study", help="where study.json and study.md go")

    def validate(self) -> StudyConfig:
        """Cross-option checks."""
        if len(set(self.variants)) != len(self.variants) or not self.variants:
            raise ConfigError(f"--variants must be distinct and non-empty, got {self.variants}")
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"--alpha must be in (0, 1), got {self.alpha}")
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError(f"--hidden must be positive widths, got {self.hidden}")
        check_sources(self.sources)
        if self.backbone == "frozen":
            _check_frozen(self)
        if self.curve_pairs > self.held_out_pairs:
            raise ConfigError(
                f"--curve_pairs ({self.curve_pairs}) > --held_out_pairs ({self.held_out_pairs})"
            )
        return self


def _check_frozen(config: StudyConfig) -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(StudyConfig)}
    for name in FINETUNE_ONLY:
        if getattr(config, name) != defaults[name]:
            raise ConfigError(
                f"--{name} applies to --backbone finetune only (the frozen path trains an MLP on "
                "cached features: one float32 batch a step, its own linear schedule, no backbone "
                f"blocks); got {getattr(config, name)!r}"
            )


def parse_args(argv: Sequence[str] | None = None) -> StudyConfig:
    """``argv`` (default ``sys.argv[1:]``) → checked :class:`StudyConfig`.

    Raises:
        ConfigError: see :func:`..cli.parse`.
    """
    return parse(StudyConfig, argv, PROG, DESCRIPTION)
