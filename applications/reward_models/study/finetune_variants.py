"""The models a study trains: a scheme plus the option changes of an ablation.

A :class:`Variant` is named as it appears in ``study.json`` (``more``, ``more[ema0.1]``,
``single[helpdesk]``). Every variant trains with the same seeds on the same data; an ablation
that changes the batch (``more_pairs``) also adds MultiTask at that batch, so that every
comparison holds the number of pairs per step fixed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from applications.reward_models.study.config import StudyConfig
from applications.reward_models.training.config import MoreConfig, SourceConfig, TrainConfig

__all__ = ["ABLATIONS", "Variant", "comparisons", "study_variants", "train_config"]

MORE_PAIRS_FACTOR = 4


@dataclass(frozen=True)
class Variant:
    """One trained configuration: ``scheme`` with ``more`` option overrides and ``pairs_factor``
    × the study's pairs per source per step (``single_source`` for scheme ``single``)."""

    name: str
    scheme: str
    more: Mapping[str, Any] = field(default_factory=dict)
    pairs_factor: int = 1
    single_source: str | None = None


ABLATIONS: dict[str, tuple[Variant, ...]] = {
    # The official code solves λ from one pair per source; we default to all m pairs.
    "one_pair": (Variant("more[one_pair]", "more", {"lambda_pairs": 1}),),
    # The paper's EMA weight of the new gradient is 0.99 (almost no smoothing); 0.1 smooths.
    "ema": (Variant("more[ema0.1]", "more", {"ema_alpha": 0.1}),),
    "no_normalization": (Variant("more[no_norm]", "more", {"normalizer": "none"}),),
    "more_pairs": (
        Variant(f"more[{MORE_PAIRS_FACTOR}x_pairs]", "more", pairs_factor=MORE_PAIRS_FACTOR),
        Variant(
            f"multitask[{MORE_PAIRS_FACTOR}x_pairs]", "multitask", pairs_factor=MORE_PAIRS_FACTOR
        ),
    ),
}


def study_variants(config: StudyConfig, sources: Sequence[str]) -> list[Variant]:
    """The schemes of ``config`` (``single``: one per source), then its ablations."""
    out: list[Variant] = []
    for scheme in config.schemes:
        if scheme == "single":
            out += [Variant(f"single[{s}]", "single", single_source=s) for s in sources]
        else:
            out.append(Variant(scheme, scheme))
    for name in config.ablations:
        out += ABLATIONS[name]
    return out


def comparisons(variants: Sequence[Variant]) -> list[tuple[str, str]]:
    """``(first, second)`` pairs reported as first − second.

    ``more`` − every other base scheme; every MORE variant − ``more`` and − MultiTask at the
    same pairs per step. Single-source models (``single[...]``) are references, not compared.
    """
    names = [v.name for v in variants]
    out = [("more", v.name) for v in variants if "[" not in v.name and v.name != "more"]
    for v in variants:
        if v.scheme == "more" and v.name != "more":
            out.append((v.name, "more"))
            same_batch = (
                "multitask" if v.pairs_factor == 1 else f"multitask[{v.pairs_factor}x_pairs]"
            )
            if same_batch in names:
                out.append((v.name, same_batch))
    return [(a, b) for a, b in out if a in names and b in names]


def train_config(
    config: StudyConfig, variant: Variant, seed: int, sources: Sequence[str], **extra: Any
) -> TrainConfig:
    """The trainer's settings for ``variant`` with training ``seed`` (``extra``: more fields)."""
    more = dataclasses.replace(MoreConfig(), **dict(variant.more))
    return TrainConfig(
        sources=[SourceConfig(name=n) for n in sources],
        model=config.model,
        trainable_blocks=config.trainable_blocks,
        max_steps=config.max_steps,
        pairs_per_source=config.pairs_per_source * variant.pairs_factor,
        learning_rate=config.learning_rate,
        max_length=config.max_length,
        resample_to=config.resample_to,
        single_source=variant.single_source,
        seed=seed,
        more=more,
        progress_bar=False,
        **extra,
    )
