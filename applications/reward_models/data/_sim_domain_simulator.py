"""The public class of the domain simulator (specs and generation: ``_sim_domains``)."""

from __future__ import annotations

from applications.reward_models.data._sim_domains import (
    DOMAIN_SOURCES,
    DomainSource,
    domain_pairs,
    domain_prompts,
)
from applications.reward_models.data._sim_features import (
    gold_from_features,
    gold_utility,
    text_features,
)
from applications.reward_models.data._sim_text import check_split
from applications.reward_models.data.schema import PreferencePair

__all__ = ["DomainPreferenceSimulator"]


class DomainPreferenceSimulator:
    """Sources identifiable from their prompts, with drifts that amplify the gold preference.

    The over-rewarding regime of the MORE paper (see ``_sim_domains``): each source has its own
    prompt domain and style; its annotators exaggerate one part of the gold preference, so a
    MultiTask model of the mixture becomes over-confident on the gold preference. Same
    interface as :class:`PreferenceSimulator`; ``true_prob`` is the gold probability.

    Args:
        seed: global seed; ``pairs(source, n, split)`` is deterministic in
            ``(seed, source, split)`` and prefix-stable in ``n``.
        sources: names from :data:`DOMAIN_SOURCES` (default: all of them, ``"shared"`` first).

    Raises:
        ValueError: unknown source name.
    """

    def __init__(self, seed: int = 0, sources: tuple[str, ...] | list[str] | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        names = tuple(sources) if sources is not None else tuple(DOMAIN_SOURCES)
        for name in names:
            if name not in DOMAIN_SOURCES:
                raise ValueError(
                    f"unknown simulator source {name!r}; valid: {', '.join(DOMAIN_SOURCES)}"
                )
        self.seed = seed
        self._sources = names

    @property
    def source_names(self) -> list[str]:
        """Names of this simulator's sources."""
        return list(self._sources)

    def _source(self, name: str) -> DomainSource:
        if name not in self._sources:
            raise ValueError(f"unknown source {name!r}; this simulator has {self.source_names}")
        return DOMAIN_SOURCES[name]

    def prompts(self, source: str, split: str = "test") -> list[str]:
        """Every prompt of ``source``'s domain on ``split`` (train and test are disjoint)."""
        check_split(split)
        return [p for _, p in domain_prompts(self.seed, self._source(source), split)]

    def gold_utility(self, prompt: str, response: str) -> float:
        """Gold shared utility ``u_gold`` of any response text (see ``_sim_features``)."""
        return gold_utility(prompt, response)

    def source_utility(self, source: str, prompt: str, response: str) -> float:
        """``U_s = u_gold + d_s`` (before division by the source temperature)."""
        f = text_features(prompt, response)
        return gold_from_features(f) + self._source(source).drift(f)

    def pairs(self, source: str, n: int, split: str = "train") -> list[PreferencePair]:
        """``n`` labelled pairs of ``source`` on its ``split`` prompts (prefix-stable in ``n``).

        Raises:
            ValueError: unknown source or split, negative ``n``.
        """
        spec = self._source(source)
        check_split(split)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return domain_pairs(self.seed, spec, n, split)

    def pairs_by_source(self, n: int, split: str = "train") -> dict[str, list[PreferencePair]]:
        """``{source: pairs(source, n, split)}`` for every source of this simulator."""
        return {s: self.pairs(s, n, split) for s in self._sources}

    def describe(self) -> str:
        """One line per source: name, topics, drift, temperature, description."""
        lines = []
        for name in self._sources:
            d = DOMAIN_SOURCES[name]
            drift = ", ".join(f"{f} {w:+g}" for f, w in d.drift_weights) or "none"
            lines.append(
                f"{name}: topics {'/'.join(d.topics)}; drift {drift}; T={d.temperature:g}"
                f" — {d.description}"
            )
        return "\n".join(lines)
