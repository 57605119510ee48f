"""OpenAssistant OASST1 message trees → canonical preference pairs.

Original schema (``OpenAssistant/oasst1``, splits ``train`` / ``validation``): one row per
message, with (among others) ``message_id``, ``parent_id`` (``None`` for a tree's root prompt),
``text``, ``role`` (``"prompter"`` / ``"assistant"``), ``lang`` (e.g. ``"en"``), ``rank``
(0 = best among its siblings, ``None`` if unranked), ``deleted`` (bool), ``message_tree_id``.

Conversion:

1. Candidate replies are assistant messages with a parent. Skipped and counted: ``deleted``,
   ``wrong_language`` (``lang`` ≠ the requested language; ``lang=None`` keeps all), ``unranked``.
2. Replies are grouped by parent; a parent with a single ranked reply counts ``single_reply``.
3. The prompt is the conversation rebuilt from the parent chain (root first), in HH-RLHF's format
   ``"\\n\\nHuman: …\\n\\nAssistant: …\\n\\nHuman: …\\n\\nAssistant:"``; a chain through a
   missing or deleted message counts ``broken_thread`` (once per reply of the group).
4. Pairs from the ranks (lower rank = better): ``pairing="best_vs_worst"`` (default) gives one pair
   per parent, the best against the worst reply (each prompt weighs the same, like the other
   sources); ``pairing="all"`` gives every pair of replies with different ranks. Equal ranks count
   ``tie``. ``margin`` is the rank difference.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping
from itertools import combinations
from typing import Any

from applications.reward_models.data._convert import Candidate, get_field, read_split, valid_pairs
from applications.reward_models.data.schema import DropReport, PreferencePair

__all__ = ["HUB_NAME", "PAIRINGS", "convert_oasst1", "load_oasst1"]

HUB_NAME = "OpenAssistant/oasst1"
PAIRINGS = ("best_vs_worst", "all")
_ROLE = {"prompter": "Human", "assistant": "Assistant"}


def _is_rank(value: Any) -> bool:
    """An integer-valued rank; ``None`` and NaN (pandas' null for a nullable int) are unranked."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and float(value).is_integer()


def _thread(message_id: str, by_id: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The conversation ending with message ``message_id`` (inclusive), or ``None`` if broken."""
    turns: list[str] = []
    current: str | None = message_id
    seen: set[str] = set()
    while current is not None:
        msg = by_id.get(current)
        if msg is None or current in seen or msg.get("deleted") is True:
            return None
        seen.add(current)
        role, text = _ROLE.get(get_field(msg, "role") or ""), get_field(msg, "text")
        if role is None or text is None:
            return None
        turns.append(f"\n\n{role}: {text.strip()}")
        current = get_field(msg, "parent_id")
    return "".join(reversed(turns))


def _candidates(
    rows: Iterable[Mapping[str, Any]],
    source: str,
    drops: DropReport,
    lang: str | None,
    pairing: str,
) -> Iterator[Candidate]:
    by_id: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        mid = get_field(row, "message_id")
        if mid is None:
            drops.add(source, "missing_field")
            continue
        by_id[mid] = row
    groups: dict[str, list[tuple[int, str]]] = {}
    for msg in by_id.values():
        parent = get_field(msg, "parent_id")
        if get_field(msg, "role") != "assistant" or parent is None:
            continue
        if msg.get("deleted") is True:
            drops.add(source, "deleted")
        elif lang is not None and get_field(msg, "lang") != lang:
            drops.add(source, "wrong_language")
        elif not _is_rank(msg.get("rank")):
            drops.add(source, "unranked")
        elif get_field(msg, "text") is None:
            drops.add(source, "missing_field")
        else:
            groups.setdefault(parent, []).append((int(msg["rank"]), msg["text"]))
    for parent in sorted(groups):
        replies = sorted(groups[parent], key=lambda r: r[0])
        if len(replies) < 2:
            drops.add(source, "single_reply")
            continue
        thread = _thread(parent, by_id)
        if thread is None:
            drops.add(source, "broken_thread", len(replies))
            continue
        prompt = thread + "\n\nAssistant:"
        candidates = (
            [(replies[0], replies[-1])] if pairing == "best_vs_worst" else combinations(replies, 2)
        )
        for (rank_a, text_a), (rank_b, text_b) in candidates:
            if rank_a == rank_b:
                drops.add(source, "tie")
                continue
            yield prompt, text_a, text_b, float(rank_b - rank_a)


def load_oasst1(
    path_or_name: str | os.PathLike[str] = HUB_NAME,
    split: str = "train",
    drops: DropReport | None = None,
    source: str = "oasst1",
    lang: str | None = "en",
    pairing: str = "best_vs_worst",
) -> list[PreferencePair]:
    """Load OASST1 pairs from the Hub or a local file of message rows.

    ``split="test"`` reads the upstream ``validation`` split (OASST1 has no test split).

    Raises:
        ValueError: unknown pairing; DataSourceError: unreadable source.
    """
    rows = read_split(
        path_or_name,
        split,
        hub_name=HUB_NAME,
        hint=(source, "oasst1", "oasst1/{split}.jsonl.gz"),
        required=("message_id", "role", "text"),
    )
    drops = drops if drops is not None else DropReport()
    return convert_oasst1(rows, source, drops, lang=lang, pairing=pairing)


def convert_oasst1(
    rows: Iterable[Mapping[str, Any]],
    source: str,
    drops: DropReport,
    lang: str | None = "en",
    pairing: str = "best_vs_worst",
) -> list[PreferencePair]:
    """Canonical pairs from OASST1 message rows (module docstring)."""
    if pairing not in PAIRINGS:
        raise ValueError(f"unknown OASST1 pairing {pairing!r}; valid: {', '.join(PAIRINGS)}")
    return valid_pairs(_candidates(rows, source, drops, lang, pairing), source, drops)
