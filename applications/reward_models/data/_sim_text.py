"""Response text of the preference simulators: a latent plan per response, rendered to prose.

A plan says which sentence kinds a response holds (helpful advice, unsafe advice, politeness,
rudeness, hedges, a refusal, neutral filler; prose or a bullet list); :func:`render` turns it
into text using ``_sim_lexicon``. Half of a simulator's pairs contrast a plan with an edit of
itself (:func:`edit_plan`), so single features are contrasted. The order of the random draws
is part of the simulators' determinism contract: change it and every generated pair changes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from applications.reward_models.data import _sim_lexicon as lex
from applications.reward_models.data._sim_features import (
    TextFeatures,
    gold_from_features,
    text_features,
)
from applications.reward_models.data.schema import PreferencePair

__all__ = [
    "SPLITS",
    "Plan",
    "check_split",
    "edit_plan",
    "labelled_pairs",
    "random_plan",
    "render",
    "sigmoid",
]

SPLITS = ("train", "test")


def check_split(split: str) -> None:
    """Raise ``ValueError`` unless ``split`` is ``"train"`` or ``"test"``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


@dataclass
class Plan:
    """Latent composition of one response (rendered to text by :func:`render`)."""

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


def random_plan(rng: random.Random, topic: int) -> Plan:
    refusal = rng.random() < 0.07
    n_helpful = 0 if refusal else rng.choices(range(5), weights=(1, 2, 3, 2, 1))[0]
    return Plan(
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


def edit_plan(rng: random.Random, plan: Plan) -> Plan:
    """Change one or two components of ``plan`` (a minimal-pair contrast)."""
    edited = Plan(**vars(plan))
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


def render(rng: random.Random, plan: Plan, prompt: str) -> str:
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


def sigmoid(z: float) -> float:
    """Numerically safe logistic function."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def labelled_pairs(
    rng: random.Random,
    prompts: Sequence[tuple[int, str]],
    n: int,
    source: str,
    drift: Callable[[TextFeatures], float],
    temperature: float,
) -> list[PreferencePair]:
    """``n`` pairs on ``prompts`` (``(topic index, prompt)``) labelled by one source.

    Per pair: a prompt, a random plan and either an edit of it or a second random plan (½ each),
    both rendered; identical texts are redrawn. The source prefers ``a`` with probability
    ``σ((U(a) − U(b)) / temperature)`` where ``U = u_gold + drift``; ``true_prob`` is
    ``σ(u_gold(chosen) − u_gold(rejected))``, the gold probability of the stored ordering.
    """
    out: list[PreferencePair] = []
    while len(out) < n:
        topic, prompt = prompts[rng.randrange(len(prompts))]
        plan_a = random_plan(rng, topic)
        use_edit = rng.random() < 0.5
        plan_b = edit_plan(rng, plan_a) if use_edit else random_plan(rng, topic)
        a = render(rng, plan_a, prompt)
        b = render(rng, plan_b, prompt)
        if a.strip() == b.strip():
            continue
        fa, fb = text_features(prompt, a), text_features(prompt, b)
        ga, gb = gold_from_features(fa), gold_from_features(fb)
        ua, ub = ga + drift(fa), gb + drift(fb)
        if rng.random() < sigmoid((ua - ub) / temperature):
            chosen, rejected, gc, gr = a, b, ga, gb
        else:
            chosen, rejected, gc, gr = b, a, gb, ga
        out.append(
            PreferencePair(
                prompt=prompt,
                chosen=chosen,
                rejected=rejected,
                source=source,
                true_prob=sigmoid(gc - gr),
            )
        )
    return out
