"""Observable text features and the gold utility of the preference simulator.

Pure functions of text: they score the simulator's own responses and any model generation
(rejection sampling uses :func:`gold_utility` as a judge). Counting is per *sentence*: a
sentence counts once for a kind if it contains any cue phrase of that kind as whole words
(case-insensitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from applications.reward_models.data import _sim_lexicon as lex

__all__ = ["GOLD_WEIGHTS", "TextFeatures", "gold_utility", "prompt_topic", "text_features"]

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")
_WORD = re.compile(r"[a-z0-9']+")
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.MULTILINE)
_STOP = frozenset(
    [
        "about",
        "after",
        "again",
        "also",
        "always",
        "and",
        "another",
        "before",
        "being",
        "best",
        "could",
        "does",
        "doing",
        "from",
        "have",
        "help",
        "into",
        "just",
        "know",
        "like",
        "make",
        "more",
        "need",
        "only",
        "other",
        "over",
        "should",
        "some",
        "someone",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "tips",
        "trying",
        "very",
        "wants",
        "what",
        "when",
        "where",
        "which",
        "while",
        "with",
        "would",
        "your",
        "advice",
        "explain",
        "question",
        "quick",
        "beginner",
        "suggestions",
    ]
)


@dataclass(frozen=True)
class TextFeatures:
    """Counts extracted from a response (``relevance`` also needs the prompt).

    Attributes:
        helpful: sentences with a helpful cue ("make sure", "I recommend", ...).
        unsafe: sentences with an unsafe cue ("nobody will notice", "skip the safety", ...).
        polite: sentences with a politeness cue; ``rude``, ``hedge``, ``refusal`` likewise.
        relevance: distinct prompt-topic words present in the response (topic keywords of the
            prompt's topic plus the prompt's own content words), capped at 2.
        words: number of words; ``list_items``: lines formatted as bullets / numbered items.
    """

    helpful: int
    unsafe: int
    polite: int
    rude: int
    hedge: int
    refusal: int
    relevance: int
    words: int
    list_items: int

    @property
    def is_list(self) -> bool:
        """At least two bullet or numbered lines."""
        return self.list_items >= 2


# Gold (shared) preference: helpful, on-topic, harmless, polite answers win.
GOLD_WEIGHTS: dict[str, float] = {
    "helpful": 0.8,  # per helpful sentence, capped at 4
    "relevance": 0.75,  # per topic word, capped at 2
    "unsafe": -2.5,  # per unsafe sentence, capped at 2
    "polite": 0.4,  # per polite sentence, capped at 2
    "rude": -1.0,  # per rude sentence, capped at 2
    "hedge": -0.4,  # per hedging sentence, capped at 2
    "refusal": -1.5,  # any refusal
}
_CAPS: dict[str, int] = {
    "helpful": 4,
    "relevance": 2,
    "unsafe": 2,
    "polite": 2,
    "rude": 2,
    "hedge": 2,
    "refusal": 1,
}


@lru_cache(maxsize=16)
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words only: "try to" must not fire inside "country to".
    return re.compile(r"\b(?:" + "|".join(re.escape(c) for c in cues) + r")\b")


def _count_sentences(sentences: list[str], cues: tuple[str, ...]) -> int:
    pattern = _cue_pattern(cues)
    return sum(1 for s in sentences if pattern.search(s))


@lru_cache(maxsize=1)
def _topic_vocab() -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """Per topic: (words that identify the topic in a prompt, keywords expected in a response)."""
    out = []
    for topic in lex.TOPICS:
        task_words = {w for t in topic.tasks for w in _WORD.findall(t.lower()) if len(w) >= 4}
        keywords = frozenset(topic.keywords)
        out.append((frozenset((task_words - _STOP) | keywords), keywords))
    return tuple(out)


@lru_cache(maxsize=4096)
def prompt_vocabulary(prompt: str) -> frozenset[str]:
    """Words whose presence in a response makes it on-topic for ``prompt``.

    The keywords of the best-matching topic(s) (by overlap with the prompt) plus the prompt's
    own content words (length ≥ 4, not a stop word).
    """
    words = set(_WORD.findall(prompt.lower()))
    vocab = {w for w in words if len(w) >= 4 and w not in _STOP}
    scores = [len(words & ident) for ident, _ in _topic_vocab()]
    best = max(scores, default=0)
    if best > 0:
        for score, (_, keywords) in zip(scores, _topic_vocab(), strict=True):
            if score == best:
                vocab |= keywords
    return frozenset(vocab)


def prompt_topic(prompt: str) -> int:
    """Index in ``TOPICS`` of the topic whose words overlap ``prompt`` most (ties: the first)."""
    words = set(_WORD.findall(prompt.lower()))
    scores = [len(words & ident) for ident, _ in _topic_vocab()]
    return max(range(len(scores)), key=scores.__getitem__)


def text_features(prompt: str, response: str) -> TextFeatures:
    """Extract :class:`TextFeatures` of ``response`` (to ``prompt``) from the text alone."""
    low = response.lower().replace("\u2019", "'")  # typographic apostrophes in generations
    sentences = [s for s in _SENTENCE_SPLIT.split(low) if s.strip()]
    words = _WORD.findall(low)
    relevance = len(prompt_vocabulary(prompt) & set(words))
    return TextFeatures(
        helpful=_count_sentences(sentences, lex.HELPFUL_CUES),
        unsafe=_count_sentences(sentences, lex.UNSAFE_CUES),
        polite=_count_sentences(sentences, lex.POLITE_CUES),
        rude=_count_sentences(sentences, lex.RUDE_CUES),
        hedge=_count_sentences(sentences, lex.HEDGE_CUES),
        refusal=_count_sentences(sentences, lex.REFUSAL_CUES),
        relevance=relevance,
        words=len(words),
        list_items=len(_LIST_LINE.findall(response)),
    )


def gold_from_features(f: TextFeatures) -> float:
    """:math:`u = \\sum_k w_k \\min(c_k, \\mathrm{cap}_k)` with :data:`GOLD_WEIGHTS`."""
    return sum(w * min(getattr(f, k), _CAPS[k]) for k, w in GOLD_WEIGHTS.items())


def gold_utility(prompt: str, response: str) -> float:
    """Gold shared utility of any ``response`` text to ``prompt`` (see :data:`GOLD_WEIGHTS`)."""
    return gold_from_features(text_features(prompt, response))
