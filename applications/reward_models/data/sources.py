"""One entry point for every preference source: ``load_pairs(SourceSpec(...), drops)``.

``SourceSpec.kind`` selects the converter (CLI-facing name → loader mapping :data:`SOURCE_KINDS`);
``path`` is a local file / directory in the source's original schema or a Hub name (``None``: the
source's Hub default); kind ``pairs`` reads files already in the canonical schema
(``canonical.py``); ``options`` are passed to the loader (listed per kind in
:data:`SOURCE_OPTIONS`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from applications.reward_models.data.canonical import load_canonical
from applications.reward_models.data.hh_rlhf import HUB_NAME as HH_HUB
from applications.reward_models.data.hh_rlhf import load_hh_rlhf
from applications.reward_models.data.oasst1 import HUB_NAME as OASST1_HUB
from applications.reward_models.data.oasst1 import load_oasst1
from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.data.summarize import HUB_NAME as SUMMARIZE_HUB
from applications.reward_models.data.summarize import load_summarize
from applications.reward_models.data.webgpt import HUB_NAME as WEBGPT_HUB
from applications.reward_models.data.webgpt import load_webgpt

__all__ = ["SOURCE_KINDS", "SOURCE_OPTIONS", "SourceSpec", "load_pairs"]

DEFAULT_SIMULATOR_PAIRS = 2000


@dataclass(frozen=True)
class SourceSpec:
    """Where and how to read one preference source.

    Attributes:
        name: the source's name (the ``source`` of its pairs; one MORE objective). For
            ``kind="simulator"`` a simulator source (``PreferenceSimulator.source_names``).
        kind: one of :data:`SOURCE_KINDS`.
        path: local file / directory or Hub name; ``None`` → the kind's Hub default.
        split: ``"train"`` or ``"test"`` (``test`` maps to upstream ``validation`` for OASST1 and
            Summarize, and to the seeded split for WebGPT).
        max_pairs: simulator: number of pairs generated (default 2000); real data: keep a seeded
            random subset of at most this many pairs (a cap, not a drop), original order kept.
        seed: simulator seed / subset seed / WebGPT test-split seed: the **data seed**
            (:mod:`.splits` passes the training config's ``simulator_seed``, never the training
            seed).
        options: extra loader options, see :data:`SOURCE_OPTIONS`.
    """

    name: str
    kind: str
    path: str | None = None
    split: str = "train"
    max_pairs: int | None = None
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"SourceSpec.name must be a non-empty string, got {self.name!r}")
        if self.kind not in SOURCE_KINDS:
            raise ValueError(
                f"unknown source kind {self.kind!r} (source {self.name!r}); "
                f"valid kinds: {', '.join(SOURCE_KINDS)}"
            )
        if self.max_pairs is not None and self.max_pairs < 0:
            raise ValueError(f"SourceSpec.max_pairs must be >= 0, got {self.max_pairs}")
        unknown = set(self.options) - set(SOURCE_OPTIONS[self.kind])
        if unknown:
            valid = ", ".join(SOURCE_OPTIONS[self.kind]) or "none"
            raise ValueError(
                f"unknown option(s) {sorted(unknown)} for source kind {self.kind!r}; valid: {valid}"
            )


def _simulator(spec: SourceSpec, drops: DropReport) -> list[PreferencePair]:
    if spec.path is not None:
        raise ValueError(f"simulator source {spec.name!r} takes no path (got {spec.path!r})")
    sim = PreferenceSimulator(seed=spec.seed, sources=[spec.name])
    n = DEFAULT_SIMULATOR_PAIRS if spec.max_pairs is None else spec.max_pairs
    return sim.pairs(spec.name, n, split=spec.split)


def _hh(subset: str) -> Callable[[SourceSpec, DropReport], list[PreferencePair]]:
    def load(spec: SourceSpec, drops: DropReport) -> list[PreferencePair]:
        return load_hh_rlhf(spec.path or HH_HUB, subset, spec.split, drops, source=spec.name)

    return load


def _oasst1(spec: SourceSpec, drops: DropReport) -> list[PreferencePair]:
    return load_oasst1(spec.path or OASST1_HUB, spec.split, drops, spec.name, **spec.options)


def _webgpt(spec: SourceSpec, drops: DropReport) -> list[PreferencePair]:
    return load_webgpt(
        spec.path or WEBGPT_HUB, spec.split, drops, spec.name, seed=spec.seed, **spec.options
    )


def _canonical(spec: SourceSpec, drops: DropReport) -> list[PreferencePair]:
    return load_canonical(spec.path, spec.split, drops, spec.name)  # type: ignore[arg-type]


def _summarize(spec: SourceSpec, drops: DropReport) -> list[PreferencePair]:
    return load_summarize(spec.path or SUMMARIZE_HUB, spec.split, drops, spec.name)


SOURCE_KINDS: dict[str, Callable[[SourceSpec, DropReport], list[PreferencePair]]] = {
    "simulator": _simulator,
    "hh_helpful": _hh("helpful-base"),
    "hh_harmless": _hh("harmless-base"),
    "oasst1": _oasst1,
    "webgpt": _webgpt,
    "summarize": _summarize,
    "pairs": _canonical,
}
SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "simulator": (),
    "hh_helpful": (),
    "hh_harmless": (),
    "oasst1": ("lang", "pairing"),
    "webgpt": ("ties", "test_fraction"),
    "summarize": (),
    "pairs": (),
}


def load_pairs(spec: SourceSpec, drops: DropReport | None = None) -> list[PreferencePair]:
    """Canonical pairs of ``spec`` with every dropped row counted in ``drops``.

    Raises:
        ValueError: invalid spec or data (messages name the file and line for malformed JSON);
        DataSourceError (a ValueError): unreadable file or Hub unavailable.
    """
    drops = drops if drops is not None else DropReport()
    pairs = SOURCE_KINDS[spec.kind](spec, drops)
    if spec.kind != "simulator" and spec.max_pairs is not None and len(pairs) > spec.max_pairs:
        keep = sorted(
            random.Random(f"{spec.seed}|{spec.name}").sample(range(len(pairs)), spec.max_pairs)
        )
        pairs = [pairs[i] for i in keep]
    return pairs
