"""The variants a study trains, named in one table (:data:`VARIANTS`).

Every variant sees the same K × m pairs per step (m = ``pairs_per_source``) and differs only in
how they are drawn and combined:

* ``multitask``: uniform batches from the union, loss = mean over pairs;
* ``balanced_uniform``: MORE's balanced batches, loss (1/K) Σ L_i (λ fixed uniform): separates
  the effect of balancing from the effect of λ;
* ``more``: balanced batches, λ = MGDA's min-norm weights of the head gradients, one λ per step
  from all m pairs per source;
* ``more_official``: λ per micro-batch of **one pair per source**, m micro-batches a step, the
  losses averaged (the official code: 8 devices × 2 accumulation steps × 1 pair per source, so
  a step averages 16 λ);
* ``more_body``: λ from the gradients of the body's last layer and the head
  (``subspace=last_blocks``, ``last_n_blocks=1``);
* ``upgrad``, ``nash_mtl``, ``imtl_g``, ``cagrad``: the family's weightings on the head Gram.

A weighted variant's step is the application's one MORE step
(:class:`~..training.step.MoreStep`), built from the variant's
:class:`~..sections.MoreConfig` (weighting and its options, subspace, normalizer, EMA,
``lambda_pairs``, ...), as the trainer and TRL build theirs: every variant here keeps the
paper's launch defaults (L2-normalized gradients, EMA α = 0.99) and changes only what its name
says.

A variant whose weighting is not registered in ``mooptim.weightings.WEIGHTINGS`` is skipped
with a printed note (:func:`available`), so the table works before and after the family lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from applications.reward_models.sections import MoreConfig

__all__ = [
    "DEFAULT_VARIANTS",
    "PRIMARY",
    "VARIANTS",
    "Variant",
    "available",
    "comparisons",
    "is_registered",
]

OFFICIAL_MICRO_BATCHES = 16


@dataclass(frozen=True)
class Variant:
    """``balanced`` batches or not; ``more``: MORE's step (``None``: a fixed mean); λ solved
    per each of ``micro_batches`` (their losses averaged)."""

    name: str
    balanced: bool
    more: MoreConfig | None = None
    micro_batches: int = 1


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("multitask", balanced=False),
        Variant("balanced_uniform", balanced=True),
        Variant("more", balanced=True, more=MoreConfig()),
        Variant("more_official", True, MoreConfig(), micro_batches=OFFICIAL_MICRO_BATCHES),
        Variant("more_body", True, MoreConfig(subspace="last_blocks", last_n_blocks=1)),
        Variant("upgrad", balanced=True, more=MoreConfig(weighting="upgrad")),
        Variant("nash_mtl", balanced=True, more=MoreConfig(weighting="nash_mtl")),
        Variant("imtl_g", balanced=True, more=MoreConfig(weighting="imtl_g")),
        Variant("cagrad", balanced=True, more=MoreConfig(weighting="cagrad")),
    )
}
"""Every variant by name (the one name → variant table)."""

DEFAULT_VARIANTS: tuple[str, ...] = tuple(VARIANTS)

PRIMARY: tuple[tuple[str, str], ...] = (("more", "multitask"), ("more", "balanced_uniform"))
"""The two pre-registered primary comparisons (first − second)."""


def available(names: Sequence[str], pairs_per_source: int, say=print) -> list[Variant]:
    """The variants ``names`` that can run: unregistered weightings, and micro-batching that
    does not divide ``pairs_per_source``, are skipped with a note through ``say``."""
    out = []
    for name in names:
        v = VARIANTS[name]
        if v.more is not None and not is_registered(v.more.weighting):
            say(f"note: variant {name!r} skipped: weighting {v.more.weighting!r} is not "
                "registered in mooptim.weightings.WEIGHTINGS")  # fmt: skip
        elif pairs_per_source % v.micro_batches:
            say(f"note: variant {name!r} skipped: {v.micro_batches} micro-batches do not divide "
                f"pairs_per_source={pairs_per_source}")  # fmt: skip
        else:
            out.append(v)
    return out


def is_registered(name: str) -> bool:
    """Whether ``name`` is in ``mooptim.weightings.WEIGHTINGS`` (the family grows by merge)."""
    from mooptim.weightings import WEIGHTINGS

    return name in WEIGHTINGS


def comparisons(names: Sequence[str]) -> list[tuple[str, str]]:
    """``(first, second)``, reported as first − second: the primary pair(s) present, then every
    other MORE-like variant − ``more``, − ``multitask`` and − ``balanced_uniform``."""
    present = set(names)
    out = [p for p in PRIMARY if set(p) <= present]
    for name in names:
        if name in ("multitask", "balanced_uniform", "more"):
            continue
        out += [(name, b) for b in ("more", "multitask", "balanced_uniform") if b in present]
    if {"balanced_uniform", "multitask"} <= present:
        out.append(("balanced_uniform", "multitask"))
    return out
