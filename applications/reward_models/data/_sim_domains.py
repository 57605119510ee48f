"""A simulator whose sources can be told apart from the input: the over-rewarding regime.

In :class:`~applications.reward_models.data.simulator.PreferenceSimulator` every source shares
one prompt and response generator, so a source's drift is, to a reward model, noise it cannot
attribute; the ``verbose`` / ``concise`` drifts even cancel in the mixture. A MultiTask model
trained on it ends up *under*-confident on the gold preference.

Here, as in real preference datasets, each source has its own prompt **domain** (two topics of
``_sim_lexicon``) and prompt **style** (its own openers), and its annotators follow
``U_s = u_gold + d_s`` where the drift ``d_s`` *amplifies* a part of the gold preference (the
helpdesk rewards thoroughness beyond its worth, the clinic punishes unsafe advice harder, ...).
The drifts point the same way as the gold weights, so in the mixture they add up instead of
cancelling: a model fit to the mixture ranks like the gold preference but with reward gaps
larger than the gold gaps — over-confidence ("over-rewarding", Zeng et al., 2023, Sec. 3).
Every pair's ``true_prob`` is still the gold probability of its stored ordering.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from applications.reward_models.data import _sim_lexicon as lex
from applications.reward_models.data._sim_features import TextFeatures
from applications.reward_models.data._sim_text import labelled_pairs
from applications.reward_models.data.schema import PreferencePair

__all__ = ["DOMAIN_SOURCES", "DomainSource", "domain_pairs", "domain_prompts"]

_TEST_TASKS_PER_TOPIC = 2
# Drift features: gold feature counts (capped as the gold utility caps them), words, lists.
_CAPS = {"helpful": 4, "unsafe": 2, "polite": 2, "rude": 2, "hedge": 2, "refusal": 1}


@dataclass(frozen=True)
class DomainSource:
    """One source: its prompt domain and style, and its annotators' drift from the gold.

    Attributes:
        name: source name (the ``source`` of its pairs).
        topics: names of ``_sim_lexicon.TOPICS`` its prompts are about.
        openers: prompt openers (its style; a prompt is ``opener + template(task)``).
        drift_weights: ``(feature, weight)``: ``d(y) = Σ weight · min(count, cap)`` over
            gold features (``helpful``, ``unsafe``, ``polite``, ``rude``, ``hedge``,
            ``refusal``), plus ``words`` (capped at 150) and ``list`` (0/1).
        temperature: Bradley–Terry temperature of its labels.
        description: one line for :meth:`DomainPreferenceSimulator.describe`.
    """

    name: str
    topics: tuple[str, ...]
    openers: tuple[str, ...]
    drift_weights: tuple[tuple[str, float], ...] = ()
    temperature: float = 1.0
    description: str = ""

    def __post_init__(self) -> None:
        known = {t.name for t in lex.TOPICS}
        bad = [t for t in self.topics if t not in known]
        if bad or not self.topics:
            raise ValueError(f"source {self.name!r}: unknown topics {bad}; valid: {sorted(known)}")
        bad = [f for f, _ in self.drift_weights if f not in {*_CAPS, "words", "list"}]
        if bad:
            raise ValueError(f"source {self.name!r}: unknown drift features {bad}")
        if not self.openers:
            raise ValueError(f"source {self.name!r}: needs at least one opener")

    def drift(self, f: TextFeatures) -> float:
        """Drift ``d_s`` of a response with features ``f``."""
        total = 0.0
        for feature, weight in self.drift_weights:
            if feature == "words":
                total += weight * min(f.words, 150)
            elif feature == "list":
                total += weight * float(f.is_list)
            else:
                total += weight * min(getattr(f, feature), _CAPS[feature])
        return total


DOMAIN_SOURCES: dict[str, DomainSource] = {
    s.name: s
    for s in (
        DomainSource(
            "shared",
            ("cooking", "travel"),
            ("", "Hi! "),
            description="gold preference alone (the role H&H plays in the paper)",
        ),
        DomainSource(
            "helpdesk",
            ("coding", "finance"),
            ("Support ticket #", "Ticket escalation: "),
            (("helpful", 2.0), ("list", 2.0)),
            description="rewards thorough, step-by-step answers beyond their worth",
        ),
        DomainSource(
            "forum",
            ("fitness", "gardening"),
            ("hey forum folks, ", "yo, long time lurker here. "),
            (("hedge", -2.0), ("refusal", -3.0), ("words", 0.02)),
            description="despises hedging and refusals, likes detail",
        ),
        DomainSource(
            "clinic",
            ("health", "pets"),
            ("Patient portal message: ", "Question for the nurse line: "),
            (("unsafe", -4.0), ("rude", -2.0)),
            description="punishes unsafe or rude answers harder than the gold",
        ),
        DomainSource(
            "etiquette",
            ("home repair", "career"),
            ("Dear advisor, ", "With the utmost respect, "),
            (("polite", 2.0), ("rude", -3.0)),
            description="weighs manners far above the gold",
        ),
    )
}


def domain_prompts(seed: int, source: DomainSource, split: str) -> list[tuple[int, str]]:
    """``(topic index, prompt)`` of ``source``'s domain on ``split``.

    Per topic, 2 of the 10 tasks (seeded per topic) are the test tasks, so train and test
    prompts are disjoint; every task is asked with every template and every opener.
    """
    out: list[tuple[int, str]] = []
    for t, topic in enumerate(lex.TOPICS):
        if topic.name not in source.topics:
            continue
        tasks = list(topic.tasks)
        random.Random(f"mooptim-domains|{seed}|{topic.name}|task-split").shuffle(tasks)
        chosen = tasks[:_TEST_TASKS_PER_TOPIC] if split == "test" else tasks[_TEST_TASKS_PER_TOPIC:]
        for task in chosen:
            for template in lex.PROMPT_TEMPLATES:
                for opener in source.openers:
                    out.append((t, opener + template.format(task=task)))
    return out


def domain_pairs(seed: int, source: DomainSource, n: int, split: str) -> list[PreferencePair]:
    """``n`` labelled pairs of ``source``; deterministic in (seed, name, split), prefix-stable."""
    rng = random.Random(f"mooptim-domains|{seed}|{source.name}|{split}")
    prompts = domain_prompts(seed, source, split)
    return labelled_pairs(rng, prompts, n, source.name, source.drift, source.temperature)
