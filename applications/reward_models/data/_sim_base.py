"""What both preference simulators share: the seed, the chosen sources and the per-source loops.

A source object (``SourceDrift`` or ``DomainSource``) has ``drift(features)`` (the source's
deviation d_s from the gold utility); a simulator adds how prompts and pairs are generated
(``pairs``) and how a source is described (``_describe``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from applications.reward_models.data._sim_features import (
    gold_from_features,
    gold_utility,
    text_features,
)
from applications.reward_models.data.schema import PreferencePair

__all__ = ["SimulatorBase"]


class SimulatorBase:
    """Seed + sources (a subset of ``known``, by name) and the methods that loop over them.

    Raises:
        TypeError: ``seed`` is not an int.
        ValueError: a source name not in ``known``.
    """

    def __init__(
        self,
        seed: int,
        sources: Sequence[str] | None,
        known: Mapping[str, Any],
        default: Sequence[str],
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        names = tuple(sources) if sources is not None else tuple(default)
        for name in names:
            if name not in known:
                raise ValueError(f"unknown simulator source {name!r}; valid: {', '.join(known)}")
        self.seed = seed
        self._sources = names
        self._known = known

    @property
    def source_names(self) -> list[str]:
        """Names of this simulator's sources (``"shared"`` follows the gold preference alone)."""
        return list(self._sources)

    def _source(self, name: str) -> Any:
        """The source object of ``name``, which must be one of this simulator's sources."""
        if name not in self._sources:
            raise ValueError(f"unknown source {name!r}; this simulator has {self.source_names}")
        return self._known[name]

    def gold_utility(self, prompt: str, response: str) -> float:
        """Gold shared utility ``u_gold`` of any response text (see ``_sim_features``)."""
        return gold_utility(prompt, response)

    def source_utility(self, source: str, prompt: str, response: str) -> float:
        """``U_s = u_gold + d_s`` (before division by the source temperature)."""
        f = text_features(prompt, response)
        return gold_from_features(f) + self._source(source).drift(f)

    def pairs(self, source: str, n: int, split: str = "train") -> list[PreferencePair]:
        """``n`` labelled pairs of ``source`` on ``split`` prompts."""
        raise NotImplementedError

    def pairs_by_source(self, n: int, split: str = "train") -> dict[str, list[PreferencePair]]:
        """``{source: pairs(source, n, split)}`` for every source of this simulator."""
        return {s: self.pairs(s, n, split) for s in self._sources}

    def _describe(self, name: str) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        """One line per source (:meth:`_describe`)."""
        return "\n".join(self._describe(name) for name in self._sources)
