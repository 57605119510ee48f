"""Pairs already in the canonical schema: read (``kind="pairs"``) and write JSONL files.

Row schema (one JSON object per line, or any local format of ``io.py``)::

    {"prompt": str, "chosen": str, "rejected": str,
     "margin": float | null (optional), "true_prob": float in [0, 1] | null (optional),
     "source": str (optional; replaced by the SourceSpec name)}

The text is used as is (``chosen`` / ``rejected`` stripped). Dropped and counted:
``missing_field`` (a text field missing or not a string, or a non-numeric margin / true_prob,
or true_prob outside [0, 1]), ``empty_response``, ``identical_responses``.
"""

from __future__ import annotations

import gzip
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from applications.reward_models.data._convert import get_field, make_pair
from applications.reward_models.data.io import DataSourceError, read_local_rows
from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.files import jsonl_text, write_bytes_atomic

__all__ = ["CANONICAL_FIELDS", "convert_canonical", "load_canonical", "save_pairs"]

CANONICAL_FIELDS = ("prompt", "chosen", "rejected")
"""The fields every canonical row must have (``margin``, ``true_prob``, ``source``: optional)."""


def _optional_number(row: Mapping[str, Any], key: str) -> tuple[bool, float | None]:
    value = row.get(key)
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False, None
    return True, float(value)


def convert_canonical(
    rows: Iterable[Mapping[str, Any]], source: str, drops: DropReport
) -> list[PreferencePair]:
    """Validated pairs from canonical rows (module docstring), all labelled ``source``."""
    pairs = []
    for row in rows:
        prompt, chosen, rejected = (get_field(row, k) for k in ("prompt", "chosen", "rejected"))
        ok_margin, margin = _optional_number(row, "margin")
        ok_prob, true_prob = _optional_number(row, "true_prob")
        ok_prob = ok_prob and (true_prob is None or 0.0 <= true_prob <= 1.0)
        if prompt is None or chosen is None or rejected is None or not (ok_margin and ok_prob):
            drops.add(source, "missing_field")
            continue
        pair = make_pair(prompt, chosen, rejected, source, drops, margin, true_prob)
        if pair is not None:
            pairs.append(pair)
    return pairs


def load_canonical(
    path: str | os.PathLike[str],
    split: str = "train",
    drops: DropReport | None = None,
    source: str = "pairs",
) -> list[PreferencePair]:
    """Canonical pairs from a local file or directory (``split`` selects directory files).

    Raises:
        DataSourceError: no path given or unreadable; ValueError: malformed JSON (file:line).
    """
    if path is None:
        raise DataSourceError(f"source {source!r} of kind 'pairs' needs a local path")
    drops = drops if drops is not None else DropReport()
    return convert_canonical(read_local_rows(path, split, CANONICAL_FIELDS), source, drops)


def save_pairs(pairs: Iterable[PreferencePair], path: str | os.PathLike[str]) -> Path:
    """Write pairs as canonical JSONL atomically (gzip when the name ends with ``.gz``)."""
    payload = jsonl_text(pair.to_dict() for pair in pairs).encode("utf-8")
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    return write_bytes_atomic(path, payload)
