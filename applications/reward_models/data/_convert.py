"""Helpers shared by the per-source loaders: field access, validated pairs, the split to read.

Each converter reads a dataset's rows into :data:`Candidate` tuples (counting the drops that
its fields cause) and hands them to :func:`valid_pairs`, which validates them into pairs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from applications.reward_models.data.io import read_rows
from applications.reward_models.data.schema import DropReport, PreferencePair, validate_pair_texts

__all__ = [
    "Candidate",
    "get_field",
    "local_hint",
    "make_pair",
    "read_split",
    "valid_pairs",
]

Candidate = tuple[str, str, str, float | None]
"""``(prompt, chosen, rejected, margin)`` read from a row, before :func:`make_pair` checks it."""

_MISSING = object()


def get_field(row: Mapping[str, Any], dotted: str, kind: type | tuple[type, ...] = str) -> Any:
    """``row["a"]["b"]`` for ``dotted="a.b"``, or ``None`` if missing or not of type ``kind``."""
    node: Any = row
    for key in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key, _MISSING)
        if node is _MISSING:
            return None
    if isinstance(node, bool) and kind is not bool:
        return None
    return node if isinstance(node, kind) else None


def make_pair(
    prompt: str,
    chosen: str,
    rejected: str,
    source: str,
    drops: DropReport,
    margin: float | None = None,
    true_prob: float | None = None,
) -> PreferencePair | None:
    """A validated pair (responses stripped), or ``None`` with the drop reason counted.

    Drop reasons: ``empty_response`` and ``identical_responses`` (:func:`validate_pair_texts`).
    """
    reason = validate_pair_texts(chosen, rejected)
    if reason is not None:
        drops.add(source, reason)
        return None
    return PreferencePair(
        prompt=prompt,
        chosen=chosen.strip(),
        rejected=rejected.strip(),
        source=source,
        margin=margin,
        true_prob=true_prob,
    )


def local_hint(name: str, kind: str, example: str) -> str:
    """How to pass a local file for a source, quoted in Hub-loading errors."""
    return (
        f"--sources {name}:{kind}:{example} on the command line, "
        f"or SourceSpec(name={name!r}, kind={kind!r}, path={example!r})"
    )


def valid_pairs(
    candidates: Iterable[Candidate], source: str, drops: DropReport
) -> list[PreferencePair]:
    """The valid pairs among ``candidates`` (:func:`make_pair`), drops counted under ``source``."""
    pairs = []
    for prompt, chosen, rejected, margin in candidates:
        pair = make_pair(prompt, chosen, rejected, source, drops, margin=margin)
        if pair is not None:
            pairs.append(pair)
    return pairs


def read_split(
    path_or_name: str | os.PathLike[str],
    split: str,
    *,
    hub_name: str,
    hint: tuple[str, str, str],
    **options: Any,
) -> list[dict[str, Any]]:
    """The rows of ``split``, for a dataset without a test split: ``"test"`` reads ``validation``.

    ``hint`` is ``(source, kind, example path)`` for :func:`local_hint`; ``{split}`` in the
    example becomes the split read. ``options`` are :func:`.io.read_rows`'s.
    """
    upstream = "validation" if split == "test" else split
    source, kind, example = hint
    return read_rows(
        path_or_name,
        split=upstream,
        hub_name=hub_name,
        local_hint=local_hint(source, kind, example.format(split=upstream)),
        **options,
    )
