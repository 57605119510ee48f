"""Helpers shared by the per-source converters: field access and validated pair construction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from applications.reward_models.data.schema import DropReport, PreferencePair, validate_pair_texts

__all__ = ["get_field", "local_hint", "make_pair"]

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
