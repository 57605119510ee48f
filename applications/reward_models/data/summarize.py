"""OpenAI "Learning to summarize from human feedback" comparisons → canonical preference pairs.

Original schema (``openai/summarize_from_feedback``, config ``comparisons``, splits ``train`` /
``validation``): one row per comparison,

    {"info": {"id": str, "post": str | None, "title": str | None, "subreddit": str | None,
              "site": str | None, "article": str | None},
     "summaries": [{"text": str, "policy": str, "note": str | None}, {...}],
     "choice": 0 | 1, "worker": str, "batch": str, "split": str, "extra": {"confidence": ...}}

Conversion: Reddit rows (``info.post`` set) get the prompt
``"SUBREDDIT: r/<subreddit>\\n\\nTITLE: <title>\\n\\nPOST: <post>\\n\\nTL;DR:"``; CNN/DailyMail rows
(``info.article`` set) get ``"TITLE: <title>\\n\\nARTICLE: <article>\\n\\nTL;DR:"`` (the title line
only when present). chosen = ``summaries[choice].text``, rejected = the other one. Dropped and
counted: ``bad_choice`` (choice not 0/1 or not two summaries), ``missing_field``, empty or
identical summaries. ``split="test"`` reads the upstream ``validation`` split.

The Hub repository is a script dataset (refused by ``datasets`` ≥ 4); the Hub's Parquet
conversion is read instead, or pass a local file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from applications.reward_models.data._convert import Candidate, get_field, read_split, valid_pairs
from applications.reward_models.data.schema import DropReport, PreferencePair

__all__ = ["HUB_NAME", "convert_summarize", "load_summarize", "summarize_prompt"]

HUB_NAME = "openai/summarize_from_feedback"


def summarize_prompt(info: Mapping[str, Any]) -> str | None:
    """The TL;DR prompt of a row's ``info`` (module docstring), or ``None`` without post/article."""
    title = get_field(info, "title")
    post = get_field(info, "post")
    if post is not None:
        subreddit = get_field(info, "subreddit") or ""
        return (
            f"SUBREDDIT: r/{subreddit.strip()}\n\nTITLE: {(title or '').strip()}"
            f"\n\nPOST: {post.strip()}\n\nTL;DR:"
        )
    article = get_field(info, "article")
    if article is not None:
        head = f"TITLE: {title.strip()}\n\n" if title else ""
        return f"{head}ARTICLE: {article.strip()}\n\nTL;DR:"
    return None


def _candidates(
    rows: Iterable[Mapping[str, Any]], source: str, drops: DropReport
) -> Iterator[Candidate]:
    for row in rows:
        info = get_field(row, "info", Mapping)
        prompt = summarize_prompt(info) if info is not None else None
        summaries = get_field(row, "summaries", list)
        choice = get_field(row, "choice", int)
        if prompt is None or summaries is None:
            drops.add(source, "missing_field")
            continue
        if choice not in (0, 1) or len(summaries) != 2:
            drops.add(source, "bad_choice")
            continue
        texts = [get_field(s, "text") if isinstance(s, Mapping) else None for s in summaries]
        if texts[0] is None or texts[1] is None:
            drops.add(source, "missing_field")
            continue
        yield prompt, texts[choice], texts[1 - choice], None


def load_summarize(
    path_or_name: str | os.PathLike[str] = HUB_NAME,
    split: str = "train",
    drops: DropReport | None = None,
    source: str = "summarize",
) -> list[PreferencePair]:
    """Load Summarize-from-feedback comparison pairs from the Hub's Parquet export or a local file.

    Raises:
        DataSourceError: unreadable source.
    """
    rows = read_split(
        path_or_name,
        split,
        hub_name=HUB_NAME,
        hint=(source, "summarize", "summarize/{split}.jsonl"),
        config="comparisons",
        required=("info", "summaries", "choice"),
        parquet_export=True,
    )
    return convert_summarize(rows, source, drops if drops is not None else DropReport())


def convert_summarize(
    rows: Iterable[Mapping[str, Any]], source: str, drops: DropReport
) -> list[PreferencePair]:
    """Canonical pairs from Summarize comparison rows (module docstring)."""
    return valid_pairs(_candidates(rows, source, drops), source, drops)
