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
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from applications.reward_models.data import _sim_lexicon as lex
from applications.reward_models.data._sim_features import (
    TextFeatures,
    gold_from_features,
    gold_utility,
    text_features,
)
from applications.reward_models.data.schema import PreferencePair

__all__ = ["SOURCE_DRIFTS", "PreferenceSimulator", "SourceDrift", "gold_utility"]

_SPLITS = ("train", "test")
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


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass
class _Plan:
    """Latent composition of one response (rendered to text by ``_render``)."""

    topic: int
    n_helpful: int
    off_topic: bool
    unsafe: bool
    polite_open: bool
    polite_close: bool
    rude: bool
    hedges: int
    fillers: int
    as_list: bool
    refusal: bool


class PreferenceSimulator:
    """K preference sources over templated natural-language prompts and responses.

    Args:
        seed: global seed; ``pairs(source, n, split)`` is a deterministic function of
            ``(seed, source, split, n)`` and prefix-stable in ``n``.
        sources: names from :data:`SOURCE_DRIFTS` (default: shared, verbose, concise, lists, noisy).

    Raises:
        ValueError: unknown source name.
    """

    def __init__(self, seed: int = 0, sources: tuple[str, ...] | list[str] | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        names = tuple(sources) if sources is not None else DEFAULT_SOURCES
        for name in names:
            if name not in SOURCE_DRIFTS:
                raise ValueError(
                    f"unknown simulator source {name!r}; valid: {', '.join(SOURCE_DRIFTS)}"
                )
        self.seed = seed
        self._sources = names
        self._prompt_sets = {split: self._build_prompts(split) for split in _SPLITS}

    # ------------------------------------------------------------------ prompts
    @property
    def source_names(self) -> list[str]:
        """Names of this simulator's sources (``"shared"`` follows the gold preference alone)."""
        return list(self._sources)

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

    # ------------------------------------------------------------------ utilities
    def gold_utility(self, prompt: str, response: str) -> float:
        """Gold shared utility ``u_gold`` of any response text (see ``_sim_features``)."""
        return gold_utility(prompt, response)

    def source_utility(self, source: str, prompt: str, response: str) -> float:
        """``U_s = u_gold + d_s`` (before division by the source temperature)."""
        f = text_features(prompt, response)
        return gold_from_features(f) + self._drift(source).drift(f)

    def _drift(self, source: str) -> SourceDrift:
        if source not in self._sources:
            raise ValueError(f"unknown source {source!r}; this simulator has {self.source_names}")
        return SOURCE_DRIFTS[source]

    @staticmethod
    def _check_split(split: str) -> None:
        if split not in _SPLITS:
            raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")

    # ------------------------------------------------------------------ responses
    @staticmethod
    def _random_plan(rng: random.Random, topic: int) -> _Plan:
        refusal = rng.random() < 0.07
        n_helpful = 0 if refusal else rng.choices(range(5), weights=(1, 2, 3, 2, 1))[0]
        return _Plan(
            topic=topic,
            n_helpful=n_helpful,
            off_topic=rng.random() < 0.12,
            unsafe=rng.random() < 0.25,
            polite_open=rng.random() < 0.35,
            polite_close=rng.random() < 0.3,
            rude=rng.random() < 0.15,
            hedges=rng.choices(range(3), weights=(6, 3, 1))[0],
            fillers=rng.randrange(5),
            as_list=n_helpful >= 2 and rng.random() < 0.4,
            refusal=refusal,
        )

    @staticmethod
    def _edit_plan(rng: random.Random, plan: _Plan) -> _Plan:
        """Change one or two components of ``plan`` (a minimal-pair contrast)."""
        edited = _Plan(**vars(plan))
        for _ in range(rng.choice((1, 1, 2))):
            field = rng.choice(
                (
                    "n_helpful",
                    "off_topic",
                    "unsafe",
                    "polite",
                    "rude",
                    "hedges",
                    "fillers",
                    "as_list",
                )
            )
            if field == "n_helpful":
                edited.n_helpful = rng.choice([k for k in range(5) if k != edited.n_helpful])
                edited.refusal = False
            elif field == "polite":
                edited.polite_open = not edited.polite_open
                edited.polite_close = not edited.polite_close
            elif field in ("hedges", "fillers"):
                top = 3 if field == "hedges" else 5
                cur = getattr(edited, field)
                setattr(edited, field, rng.choice([k for k in range(top) if k != cur]))
            else:
                setattr(edited, field, not getattr(edited, field))
            edited.as_list = edited.as_list and edited.n_helpful >= 2
        return edited

    @staticmethod
    def _render(rng: random.Random, plan: _Plan, prompt: str) -> str:
        n_topics = len(lex.TOPICS)
        topic = lex.TOPICS[
            (plan.topic + rng.randrange(1, n_topics)) % n_topics if plan.off_topic else plan.topic
        ]
        head: list[str] = []
        if plan.polite_open:
            head.append(rng.choice(lex.POLITE_OPENERS))
        if plan.rude:
            head.append(rng.choice(lex.RUDE_SENTENCES))
        if plan.refusal:
            head.append(rng.choice(lex.REFUSAL_SENTENCES))
        facts = rng.sample(topic.facts, plan.n_helpful)
        templates = rng.sample(lex.HELPFUL_TEMPLATES, plan.n_helpful)
        items = [tpl.format(fact=fact) for tpl, fact in zip(templates, facts, strict=True)]
        if plan.unsafe:
            risk = rng.choice(topic.risks)
            items.insert(
                rng.randrange(len(items) + 1), rng.choice(lex.UNSAFE_TEMPLATES).format(risk=risk)
            )
        fillers = rng.sample(lex.FILLER_SENTENCES, plan.fillers)
        hedges = rng.sample(lex.HEDGE_SENTENCES, plan.hedges)
        tail = [rng.choice(lex.POLITE_CLOSERS)] if plan.polite_close else []
        if plan.as_list:
            numbered = rng.random() < 0.5
            lines = [f"{i + 1}. {s}" if numbered else f"- {s}" for i, s in enumerate(items)]
            before = " ".join([*head, *fillers, rng.choice(lex.LIST_INTROS)])
            after = " ".join([*hedges, *tail])
            return "\n".join(x for x in (before, *lines, after) if x)
        body = items + fillers
        rng.shuffle(body)
        text = " ".join([*head, *body, *hedges, *tail])
        return text if text else rng.choice(lex.FILLER_SENTENCES)

    # ------------------------------------------------------------------ pairs
    def pairs(self, source: str, n: int, split: str = "train") -> list[PreferencePair]:
        """``n`` labelled pairs of ``source`` on ``split`` prompts.

        Deterministic in ``(seed, source, split, n)`` and prefix-stable: ``pairs(s, m)`` is the
        first ``m`` of ``pairs(s, n)`` for ``m ≤ n``.

        Raises:
            ValueError: unknown source or split, negative ``n``.
        """
        drift = self._drift(source)
        self._check_split(split)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        rng = random.Random(f"mooptim-sim|{self.seed}|{source}|{split}")
        prompts = self._prompt_sets[split]
        out: list[PreferencePair] = []
        while len(out) < n:
            topic, prompt = prompts[rng.randrange(len(prompts))]
            plan_a = self._random_plan(rng, topic)
            use_edit = rng.random() < 0.5
            plan_b = self._edit_plan(rng, plan_a) if use_edit else self._random_plan(rng, topic)
            a = self._render(rng, plan_a, prompt)
            b = self._render(rng, plan_b, prompt)
            if a.strip() == b.strip():
                continue
            fa, fb = text_features(prompt, a), text_features(prompt, b)
            ga, gb = gold_from_features(fa), gold_from_features(fb)
            ua, ub = ga + drift.drift(fa), gb + drift.drift(fb)
            if rng.random() < _sigmoid((ua - ub) / drift.temperature):
                chosen, rejected, gc, gr = a, b, ga, gb
            else:
                chosen, rejected, gc, gr = b, a, gb, ga
            out.append(
                PreferencePair(
                    prompt=prompt,
                    chosen=chosen,
                    rejected=rejected,
                    source=source,
                    true_prob=_sigmoid(gc - gr),
                )
            )
        return out

    def pairs_by_source(self, n: int, split: str = "train") -> dict[str, list[PreferencePair]]:
        """``{source: pairs(source, n, split)}`` for every source of this simulator."""
        return {s: self.pairs(s, n, split) for s in self._sources}

    def describe(self) -> str:
        """One line per source: name, drift, temperature, description."""
        lines = []
        for name in self._sources:
            d = SOURCE_DRIFTS[name]
            lines.append(
                f"{name}: length {d.length_weight:+g}/word, list {d.list_weight:+g}, "
                f"unsafe {d.unsafe_weight:+g}, T={d.temperature:g} — {d.description}"
            )
        return "\n".join(lines)
