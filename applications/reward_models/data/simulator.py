"""A deterministic diversified-preference simulator: K sources sharing one gold preference.

Generative model (documented in ``docs/reward-models/data.md``):

1. A prompt is drawn uniformly from the split's prompt set (topic × task × template × prefix;
   tasks are split 8/2 per topic between train and test, so train and test prompts are disjoint).
2. Two responses are composed from sentence kinds (helpful on-topic advice, unsafe advice,
   politeness, rudeness, hedging, refusals, neutral filler; prose or bullet list). Half of the
   pairs are independent draws, half are *edits* of the first response (one or two components
   changed) so that single features are contrasted.
3. Each source ``s`` scores a response with ``U_s(x, y) = u_gold(x, y) + d_s(y)`` where
   ``u_gold`` (:func:`gold_utility`) is a function of the text alone and ``d_s`` the source's drift,
   and labels the pair by a Bradley–Terry draw: ``P(a ≻ b) = σ((U_s(a) − U_s(b)) / T_s)``.
4. Every pair stores ``true_prob = σ(u_gold(chosen) − u_gold(rejected))``: the probability of the
   stored ordering under the shared preference (the labels of source ``"shared"`` are drawn from
   exactly this probability).

:class:`DomainPreferenceSimulator` (preset ``domains``, ``_sim_domains``) is the variant whose
sources are identifiable from their prompts and whose drifts amplify the gold preference (the
over-rewarding regime of the calibration study); :data:`SIMULATOR_PRESETS` names both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from applications.reward_models.data import _sim_lexicon as lex
from applications.reward_models.data._sim_base import SimulatorBase
from applications.reward_models.data._sim_domain_simulator import DomainPreferenceSimulator
from applications.reward_models.data._sim_domains import DOMAIN_SOURCES, DomainSource
from applications.reward_models.data._sim_features import (
    TextFeatures,
    gold_utility,
)
from applications.reward_models.data._sim_text import (
    SPLITS,
    check_split,
    edit_plan,
    labelled_pairs,
    random_plan,
    render,
)
from applications.reward_models.data.schema import PreferencePair

__all__ = [
    "DOMAIN_SOURCES",
    "SIMULATOR_PRESETS",
    "SOURCE_DRIFTS",
    "DomainPreferenceSimulator",
    "DomainSource",
    "PreferenceSimulator",
    "SourceDrift",
    "gold_utility",
]

_SPLITS = SPLITS
_TEST_TASKS_PER_TOPIC = 2


@dataclass(frozen=True)
class SourceDrift:
    """A source's departure from the gold preference: ``d(y) = a·min(words, 150) + b·is_list``.

    Labels are Bradley–Terry draws at temperature ``temperature`` (> 1: a noisier annotator).
    ``unsafe_weight`` is added per unsafe sentence (capped at 2) to partly undo the gold penalty.
    """

    name: str
    length_weight: float = 0.0
    list_weight: float = 0.0
    unsafe_weight: float = 0.0
    temperature: float = 1.0
    description: str = ""

    def drift(self, f: TextFeatures) -> float:
        """Drift ``d_s`` of a response with features ``f``."""
        return (
            self.length_weight * min(f.words, 150)
            + self.list_weight * float(f.is_list)
            + self.unsafe_weight * min(f.unsafe, 2)
        )


SOURCE_DRIFTS: dict[str, SourceDrift] = {
    d.name: d
    for d in (
        SourceDrift(
            "shared", description="gold preference alone (the role H&H plays in the paper)"
        ),
        SourceDrift("verbose", length_weight=0.08, description="likes long answers"),
        SourceDrift("concise", length_weight=-0.08, description="likes short answers"),
        SourceDrift("lists", list_weight=3.0, description="likes bullet or numbered lists"),
        SourceDrift("noisy", temperature=3.0, description="gold preference, noisy annotator"),
        SourceDrift(
            "edgy",
            unsafe_weight=2.0,
            length_weight=0.02,
            description="mostly ignores harm, likes detail (not a default source)",
        ),
    )
}
DEFAULT_SOURCES: tuple[str, ...] = ("shared", "verbose", "concise", "lists", "noisy")


class PreferenceSimulator(SimulatorBase):
    """K preference sources over templated natural-language prompts and responses.

    Args:
        seed: global seed; ``pairs(source, n, split)`` is a deterministic function of
            ``(seed, source, split, n)`` and prefix-stable in ``n``.
        sources: names from :data:`SOURCE_DRIFTS` (default: shared, verbose, concise, lists, noisy).

    Raises:
        ValueError: unknown source name.
    """

    def __init__(self, seed: int = 0, sources: tuple[str, ...] | list[str] | None = None) -> None:
        super().__init__(seed, sources, SOURCE_DRIFTS, DEFAULT_SOURCES)
        self._prompt_sets = {split: self._build_prompts(split) for split in _SPLITS}

    # ------------------------------------------------------------------ prompts
    def _build_prompts(self, split: str) -> list[tuple[int, str]]:
        rng = random.Random(f"mooptim-sim|{self.seed}|task-split")
        out: list[tuple[int, str]] = []
        for t, topic in enumerate(lex.TOPICS):
            tasks = list(topic.tasks)
            rng.shuffle(tasks)
            chosen = (
                tasks[:_TEST_TASKS_PER_TOPIC] if split == "test" else tasks[_TEST_TASKS_PER_TOPIC:]
            )
            for task in chosen:
                for template in lex.PROMPT_TEMPLATES:
                    for prefix in lex.PROMPT_PREFIXES:
                        out.append((t, prefix + template.format(task=task)))
        return out

    def prompts(self, n: int, split: str = "test") -> list[str]:
        """``n`` prompts of ``split`` in a seeded order (cycled when ``n`` exceeds the set)."""
        self._check_split(split)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        pool = [p for _, p in self._prompt_sets[split]]
        order = list(range(len(pool)))
        random.Random(f"mooptim-sim|{self.seed}|prompts|{split}").shuffle(order)
        return [pool[order[i % len(pool)]] for i in range(n)]

    _check_split = staticmethod(check_split)

    # ------------------------------------------------------------------ responses
    _random_plan = staticmethod(random_plan)
    _edit_plan = staticmethod(edit_plan)
    _render = staticmethod(render)

    # ------------------------------------------------------------------ pairs
    def pairs(self, source: str, n: int, split: str = "train") -> list[PreferencePair]:
        """``n`` labelled pairs of ``source`` on ``split`` prompts.

        Deterministic in ``(seed, source, split, n)`` and prefix-stable: ``pairs(s, m)`` is the
        first ``m`` of ``pairs(s, n)`` for ``m ≤ n``.

        Raises:
            ValueError: unknown source or split, negative ``n``.
        """
        drift: SourceDrift = self._source(source)
        self._check_split(split)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        rng = random.Random(f"mooptim-sim|{self.seed}|{source}|{split}")
        return labelled_pairs(
            rng, self._prompt_sets[split], n, source, drift.drift, drift.temperature
        )

    def _describe(self, name: str) -> str:
        """Name, drift, temperature, description."""
        d = SOURCE_DRIFTS[name]
        return (
            f"{name}: length {d.length_weight:+g}/word, list {d.list_weight:+g}, "
            f"unsafe {d.unsafe_weight:+g}, T={d.temperature:g} — {d.description}"
        )


# The simulators by name, for command lines (``classic`` is the default training data).
SIMULATOR_PRESETS: dict[str, type[PreferenceSimulator] | type[DomainPreferenceSimulator]] = {
    "classic": PreferenceSimulator,
    "domains": DomainPreferenceSimulator,
}
