"""OpenAI WebGPT comparisons → canonical preference pairs, with a seeded test split.

Original schema (``openai/webgpt_comparisons``, split ``train`` only): one row per comparison,

    {"question": {"full_text": str, "id": str, "dataset": str},
     "quotes_0": {...}, "answer_0": str, "tokens_0": {...}, "score_0": float,
     "quotes_1": {...}, "answer_1": str, "tokens_1": {...}, "score_1": float}

with ``score_0 = −score_1`` ∈ [−1, 1]. Conversion: prompt = ``question.full_text``; answer 0 is
chosen iff ``score_0 > 0``, answer 1 iff ``score_0 < 0``; ``margin = |score_0 − score_1|``. The
quotes (retrieved evidence) are not used. Ties (``score_0 == 0``) are dropped and counted
(``tie``) by default; ``ties="keep"`` keeps them as (answer_0, answer_1) with ``margin = 0.0``, a
soft label that consumers must treat as "no preference".

Test split: upstream has no test split, so each *question* is assigned to ``test`` iff
``sha256(f"{seed}|{question}")`` mapped to [0, 1) is below ``test_fraction`` (default 0.1): the
assignment is seeded, independent of row order, and no question is in both splits. It is the
holdout rule of :mod:`.splits`, which passes the **data seed** (never the training seed).

The Hub repository is a script dataset (refused by ``datasets`` ≥ 4); the Hub's Parquet
conversion is read instead, or pass a local file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from applications.reward_models.data._convert import Candidate, get_field, local_hint, valid_pairs
from applications.reward_models.data.io import read_rows
from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.data.splits import seeded_unit

__all__ = ["HUB_NAME", "convert_webgpt", "in_test_split", "load_webgpt"]

HUB_NAME = "openai/webgpt_comparisons"
TIES = ("drop", "keep")


def in_test_split(question: str, seed: int, test_fraction: float) -> bool:
    """Seeded, order-independent assignment of a question to the test split."""
    return seeded_unit(seed, question) < test_fraction


def _candidates(
    rows: Iterable[Mapping[str, Any]], source: str, drops: DropReport, ties: str
) -> Iterator[Candidate]:
    for row in rows:
        question = get_field(row, "question.full_text")
        a0, a1 = get_field(row, "answer_0"), get_field(row, "answer_1")
        s0, s1 = get_field(row, "score_0", (int, float)), get_field(row, "score_1", (int, float))
        if question is None or a0 is None or a1 is None or s0 is None or s1 is None:
            drops.add(source, "missing_field")
            continue
        if s0 > 0:
            chosen, rejected = a0, a1
        elif s0 < 0:
            chosen, rejected = a1, a0
        elif ties == "keep":
            chosen, rejected = a0, a1
        else:
            drops.add(source, "tie")
            continue
        yield question, chosen, rejected, float(abs(s0 - s1))


def load_webgpt(
    path_or_name: str | os.PathLike[str] = HUB_NAME,
    split: str = "train",
    drops: DropReport | None = None,
    source: str = "webgpt",
    ties: str = "drop",
    test_fraction: float = 0.1,
    seed: int = 0,
) -> list[PreferencePair]:
    """Load WebGPT pairs of ``split`` (``"train"`` or the seeded ``"test"`` split).

    Drops are counted only for rows of the requested split.

    Raises:
        ValueError: unknown split / ties, ``test_fraction`` outside (0, 1);
        DataSourceError: unreadable source.
    """
    if split not in ("train", "test"):
        raise ValueError(f"WebGPT split must be 'train' or 'test' (seeded), got {split!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    drops = drops if drops is not None else DropReport()
    rows = read_rows(
        path_or_name,
        split="train",
        hub_name=HUB_NAME,
        parquet_export=True,
        required=("question", "answer_0", "answer_1", "score_0", "score_1"),
        local_hint=local_hint(source, "webgpt", "webgpt/train.parquet"),
    )
    want_test = split == "test"
    selected = [
        row
        for row in rows
        if in_test_split(str(get_field(row, "question.full_text")), seed, test_fraction)
        == want_test
    ]
    return convert_webgpt(selected, source, drops, ties=ties)


def convert_webgpt(
    rows: Iterable[Mapping[str, Any]],
    source: str,
    drops: DropReport,
    ties: str = "drop",
) -> list[PreferencePair]:
    """Canonical pairs from WebGPT rows (module docstring), all splits together."""
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    return valid_pairs(_candidates(rows, source, drops, ties), source, drops)
