"""The public class of the domain simulator (specs and generation: ``_sim_domains``)."""

from __future__ import annotations

from applications.reward_models.data._sim_base import SimulatorBase
from applications.reward_models.data._sim_domains import (
    DOMAIN_SOURCES,
    DomainSource,
    domain_pairs,
    domain_prompts,
)
from applications.reward_models.data._sim_text import check_split
from applications.reward_models.data.schema import PreferencePair

__all__ = ["DomainPreferenceSimulator"]


class DomainPreferenceSimulator(SimulatorBase):
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
        super().__init__(seed, sources, DOMAIN_SOURCES, tuple(DOMAIN_SOURCES))

    def prompts(self, source: str, split: str = "test") -> list[str]:
        """Every prompt of ``source``'s domain on ``split`` (train and test are disjoint)."""
        check_split(split)
        return [p for _, p in domain_prompts(self.seed, self._source(source), split)]

    def pairs(self, source: str, n: int, split: str = "train") -> list[PreferencePair]:
        """``n`` labelled pairs of ``source`` on its ``split`` prompts (prefix-stable in ``n``).

        Raises:
            ValueError: unknown source or split, negative ``n``.
        """
        spec: DomainSource = self._source(source)
        check_split(split)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return domain_pairs(self.seed, spec, n, split)

    def _describe(self, name: str) -> str:
        """Name, topics, drift, temperature, description."""
        d = DOMAIN_SOURCES[name]
        drift = ", ".join(f"{f} {w:+g}" for f, w in d.drift_weights) or "none"
        return (
            f"{name}: topics {'/'.join(d.topics)}; drift {drift}; T={d.temperature:g}"
            f" — {d.description}"
        )
