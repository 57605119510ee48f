"""One entry point for every preference source: ``load_pairs(SourceSpec(...), drops)``.

``SourceSpec.kind`` (:class:`~.source_spec.SourceSpec`) selects the converter (CLI-facing name →
loader mapping :data:`SOURCE_KINDS`); ``path`` is a local file / directory in the source's
original schema or a Hub name (``None``: the source's Hub default) read at ``split``; kind
``pairs`` reads files already in the canonical schema (``canonical.py``); ``options`` are passed
to the loader (listed per kind in :data:`~.source_spec.SOURCE_OPTIONS`). ``max_pairs`` and the
data ``seed`` are arguments of :func:`load_pairs`, not of the source.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from applications.reward_models.data.canonical import load_canonical
from applications.reward_models.data.hh_rlhf import HUB_NAME as HH_HUB
from applications.reward_models.data.hh_rlhf import load_hh_rlhf
from applications.reward_models.data.oasst1 import HUB_NAME as OASST1_HUB
from applications.reward_models.data.oasst1 import load_oasst1
from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.summarize import HUB_NAME as SUMMARIZE_HUB
from applications.reward_models.data.summarize import load_summarize
from applications.reward_models.data.webgpt import HUB_NAME as WEBGPT_HUB
from applications.reward_models.data.webgpt import load_webgpt

__all__ = ["SOURCE_KINDS", "load_pairs"]

DEFAULT_SIMULATOR_PAIRS = 2000


@dataclass(frozen=True)
class _Request:
    """What :func:`load_pairs` asks of a loader besides the source: a cap and the data seed."""

    max_pairs: int | None
    seed: int


Loader = Callable[[SourceSpec, DropReport, _Request], list[PreferencePair]]


def _simulator(spec: SourceSpec, drops: DropReport, request: _Request) -> list[PreferencePair]:
    if spec.path is not None:
        raise ValueError(f"simulator source {spec.name!r} takes no path (got {spec.path!r})")
    sim = PreferenceSimulator(seed=request.seed, sources=[spec.name])
    n = DEFAULT_SIMULATOR_PAIRS if request.max_pairs is None else request.max_pairs
    return sim.pairs(spec.name, n, split=spec.split)


def _hh(subset: str) -> Loader:
    def load(spec: SourceSpec, drops: DropReport, request: _Request) -> list[PreferencePair]:
        return load_hh_rlhf(spec.path or HH_HUB, subset, spec.split, drops, source=spec.name)

    return load


def _oasst1(spec: SourceSpec, drops: DropReport, request: _Request) -> list[PreferencePair]:
    return load_oasst1(spec.path or OASST1_HUB, spec.split, drops, spec.name, **spec.options)


def _webgpt(spec: SourceSpec, drops: DropReport, request: _Request) -> list[PreferencePair]:
    return load_webgpt(
        spec.path or WEBGPT_HUB, spec.split, drops, spec.name, seed=request.seed, **spec.options
    )


def _canonical(spec: SourceSpec, drops: DropReport, request: _Request) -> list[PreferencePair]:
    return load_canonical(spec.path, spec.split, drops, spec.name)  # type: ignore[arg-type]


def _summarize(spec: SourceSpec, drops: DropReport, request: _Request) -> list[PreferencePair]:
    return load_summarize(spec.path or SUMMARIZE_HUB, spec.split, drops, spec.name)


SOURCE_KINDS: dict[str, Loader] = {
    "simulator": _simulator,
    "hh_helpful": _hh("helpful-base"),
    "hh_harmless": _hh("harmless-base"),
    "oasst1": _oasst1,
    "webgpt": _webgpt,
    "summarize": _summarize,
    "pairs": _canonical,
}


def load_pairs(
    spec: SourceSpec,
    drops: DropReport | None = None,
    *,
    max_pairs: int | None = None,
    seed: int = 0,
) -> list[PreferencePair]:
    """Canonical pairs of ``spec`` (its ``path`` at its ``split``) with every dropped row counted
    in ``drops``.

    Args:
        spec: the source.
        drops: receives the dropped rows.
        max_pairs: simulator: number of pairs generated (default 2000); real data: keep a seeded
            random subset of at most this many pairs (a cap, not a drop), original order kept.
        seed: the **data seed**: simulator seed / subset seed / WebGPT test-split seed
            (:mod:`.splits` passes the ``simulator_seed``, never the training seed).

    Raises:
        ValueError: invalid arguments or data (messages name the file and line for malformed
            JSON); DataSourceError (a ValueError): unreadable file or Hub unavailable.
    """
    if max_pairs is not None and max_pairs < 0:
        raise ValueError(f"max_pairs must be >= 0, got {max_pairs}")
    drops = drops if drops is not None else DropReport()
    pairs = SOURCE_KINDS[spec.kind](spec, drops, _Request(max_pairs, seed))
    if spec.kind != "simulator" and max_pairs is not None and len(pairs) > max_pairs:
        keep = sorted(random.Random(f"{seed}|{spec.name}").sample(range(len(pairs)), max_pairs))
        pairs = [pairs[i] for i in keep]
    return pairs
