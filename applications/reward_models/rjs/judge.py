"""Pairwise judges and position-swapped win / tie / lose counting.

A :class:`Judge` answers "which of two responses to this prompt is better?" with ``"first"``,
``"second"`` or ``"tie"``. Position bias is controlled by asking twice with the order swapped
(:func:`judge_with_swap`): the candidate **wins** if it is preferred in both orders, **loses** if
the baseline is preferred in both, and anything else (disagreement, an explicit tie, an unparsable
answer) is a **tie**. Any two policies' responses to the same prompts can be compared
(:func:`judge_pairwise`); :func:`judging_pairs` lists the comparisons of a run (each aligned
policy vs the base, and the aligned policies head to head).

Judges provided: :class:`ScoreJudge` wraps any scalar scorer ``s(prompt, response)`` — the
simulator's gold utility (:func:`gold_utility_judge`) or a reward model
(:func:`reward_model_judge`); :class:`~applications.reward_models.rjs.judge_http.HTTPChatJudge` asks
any OpenAI-compatible chat endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from applications.reward_models.rjs.intervals import LEVEL, ConfidenceInterval, outcome_intervals

Verdict = Literal["first", "second", "tie"]
Outcome = Literal["win", "tie", "lose"]


@runtime_checkable
class Judge(Protocol):
    """Anything with a ``name`` and ``compare(prompt, first, second) -> Verdict``."""

    name: str

    def compare(self, prompt: str, first: str, second: str) -> Verdict: ...


class ScoreJudge:
    """Prefers the response with the higher score; ``|s_1 − s_2| <= margin`` is a tie.

    Scores are cached per ``(prompt, response)`` so the swapped comparison costs nothing, and
    :meth:`prefetch` scores many responses in one batched call when ``batch_score`` is given.
    Scalar judges are position-independent, so swapping can only turn equal scores into ties.
    """

    def __init__(
        self,
        name: str,
        score: Callable[[str, str], float],
        margin: float = 0.0,
        batch_score: Callable[[Sequence[str], Sequence[str]], list[float | None]] | None = None,
    ):
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.name, self._score, self.margin, self._batch = name, score, margin, batch_score
        self._cache: dict[tuple[str, str], float | None] = {}

    def prefetch(self, prompts: Sequence[str], responses: Sequence[str]) -> None:
        """Score and cache ``(prompts[i], responses[i])`` pairs (batched when possible)."""
        keys = [
            k for k in dict.fromkeys(zip(prompts, responses, strict=True)) if k not in self._cache
        ]
        if not keys:
            return
        if self._batch is None:
            values = [self._score(p, r) for p, r in keys]
        else:
            values = self._batch([p for p, _ in keys], [r for _, r in keys])
        self._cache.update(zip(keys, values, strict=True))

    def score(self, prompt: str, response: str) -> float | None:
        if (prompt, response) not in self._cache:
            self.prefetch([prompt], [response])
        return self._cache[(prompt, response)]

    def compare(self, prompt: str, first: str, second: str) -> Verdict:
        a, b = self.score(prompt, first), self.score(prompt, second)
        if a is None or b is None:  # a response the scorer cannot read: no verdict
            return "tie"
        if a > b + self.margin:
            return "first"
        if b > a + self.margin:
            return "second"
        return "tie"


def gold_utility_judge(simulator: Any, margin: float = 0.0) -> ScoreJudge:
    """Judge by the simulator's gold shared utility ``simulator.gold_utility(prompt, response)``."""
    return ScoreJudge("gold", simulator.gold_utility, margin)


def reward_model_judge(
    model: Any, tokenizer: Any, name: str = "rm", max_length: int = 512, batch_size: int = 32
) -> ScoreJudge:
    """Judge by a reward model's score (same text format as RM training)."""
    from applications.reward_models.modeling.scoring import score_texts

    def batch(prompts: Sequence[str], responses: Sequence[str]) -> list[float | None]:
        return score_texts(model, tokenizer, prompts, responses, batch_size, max_length)

    return ScoreJudge(name, lambda p, r: batch([p], [r])[0], batch_score=batch)  # type: ignore[arg-type,return-value]


def judge_with_swap(judge: Judge, prompt: str, candidate: str, baseline: str) -> Outcome:
    """``win`` / ``lose`` only when both orders agree, else ``tie`` (see module docstring)."""
    v1 = judge.compare(prompt, candidate, baseline)
    v2 = judge.compare(prompt, baseline, candidate)
    if v1 == "first" and v2 == "second":
        return "win"
    if v1 == "second" and v2 == "first":
        return "lose"
    return "tie"


@dataclass(frozen=True)
class WinTieLose:
    """Counts of candidate-vs-baseline outcomes; rates are fractions of ``n``."""

    win: int
    tie: int
    lose: int

    @property
    def n(self) -> int:
        return self.win + self.tie + self.lose

    def rates(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {"win": self.win / n, "tie": self.tie / n, "lose": self.lose / n}

    def intervals(self) -> dict[str, ConfidenceInterval]:
        """95 % intervals: Wilson for ``win`` / ``tie`` / ``lose`` rates, a bootstrap over
        prompts for ``win_minus_lose`` (:mod:`~applications.reward_models.rjs.intervals`);
        empty when nothing was judged."""
        return outcome_intervals(self.win, self.tie, self.lose) if self.n else {}

    def to_dict(self) -> dict[str, Any]:
        """Counts, rates, ``win_minus_lose`` and ``ci`` (``{name: {"low", "high"}}``, level)."""
        ci = {k: {"low": v.low, "high": v.high} for k, v in self.intervals().items()}
        return {
            "win": self.win,
            "tie": self.tie,
            "lose": self.lose,
            "n": self.n,
            "rates": self.rates(),
            "win_minus_lose": (self.win - self.lose) / max(self.n, 1),
            "ci": {"level": LEVEL, **ci},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WinTieLose:
        """The counts of a :meth:`to_dict` record (other keys are derived and ignored)."""
        return cls(int(data["win"]), int(data["tie"]), int(data["lose"]))


def judging_pairs(aligned: Sequence[str], base: str = "base") -> list[tuple[str, str]]:
    """``(candidate, baseline)`` pairs to judge: every aligned policy against ``base``, then
    every two aligned policies head to head, the later-listed one as the candidate (with the
    default schemes ``multitask more``: MORE vs MultiTask, the paper's Table 2 comparison).

    Raises:
        ValueError: a name repeats or is ``base``.
    """
    names = list(aligned)
    if len(set(names)) != len(names) or base in names:
        raise ValueError(f"policy names must be distinct and not {base!r}, got {names}")
    vs_base = [(name, base) for name in names]
    head_to_head = [
        (names[j], names[i]) for i in range(len(names)) for j in range(i + 1, len(names))
    ]
    return vs_base + head_to_head


def judge_pairwise(
    judge: Judge,
    prompts: Sequence[str],
    candidates: Sequence[str],
    baselines: Sequence[str],
) -> tuple[WinTieLose, list[Outcome]]:
    """Judge ``candidates[i]`` against ``baselines[i]`` for every prompt, with position swap.

    Returns:
        ``(counts, per-prompt outcomes)``.

    Raises:
        ValueError: the three sequences differ in length.
    """
    if not len(prompts) == len(candidates) == len(baselines):
        raise ValueError(
            f"lengths differ: {len(prompts)} prompts, {len(candidates)} candidates, "
            f"{len(baselines)} baselines"
        )
    prefetch = getattr(judge, "prefetch", None)
    if callable(prefetch):
        prefetch(list(prompts) * 2, list(candidates) + list(baselines))
    outcomes = [
        judge_with_swap(judge, p, c, b)
        for p, c, b in zip(prompts, candidates, baselines, strict=True)
    ]
    counts = WinTieLose(outcomes.count("win"), outcomes.count("tie"), outcomes.count("lose"))
    return counts, outcomes
