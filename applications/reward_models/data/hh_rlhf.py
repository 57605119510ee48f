"""Anthropic HH-RLHF (helpful-base / harmless-base) → canonical preference pairs.

Original schema (``Anthropic/hh-rlhf``, ``data_dir`` ``helpful-base`` or ``harmless-base``,
splits ``train`` / ``test``; files ``<data_dir>/<split>.jsonl.gz``): one row per comparison,

    {"chosen":   "\\n\\nHuman: …\\n\\nAssistant: …\\n\\nHuman: …\\n\\nAssistant: <chosen reply>",
     "rejected": "\\n\\nHuman: …\\n\\nAssistant: …\\n\\nHuman: …\\n\\nAssistant: <rejected reply>"}

Conversion: the prompt is each transcript up to and including its last ``"\\n\\nAssistant:"``; the
response is the (stripped) text after it. Dropped and counted: a transcript whose final turn is
not an assistant turn (``no_assistant_final_turn``), transcripts whose prompts differ
(``prompt_mismatch``), empty or identical responses, non-string fields (``missing_field``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from applications.reward_models.data._convert import Candidate, get_field, local_hint, valid_pairs
from applications.reward_models.data.io import read_rows
from applications.reward_models.data.schema import DropReport, PreferencePair

__all__ = ["HH_SUBSETS", "HUB_NAME", "convert_hh_rlhf", "load_hh_rlhf", "split_transcript"]

HUB_NAME = "Anthropic/hh-rlhf"
HH_SUBSETS = ("helpful-base", "harmless-base")
ASSISTANT = "\n\nAssistant:"
HUMAN = "\n\nHuman:"


def split_transcript(transcript: str) -> tuple[str, str] | None:
    """``(prompt, response)`` at the last ``"\\n\\nAssistant:"``, or ``None`` if the final turn is
    not an assistant turn (no marker, or a human turn after it)."""
    idx = transcript.rfind(ASSISTANT)
    if idx < 0:
        return None
    cut = idx + len(ASSISTANT)
    response = transcript[cut:]
    if HUMAN in response:
        return None
    return transcript[:cut], response.strip()


def _candidates(
    rows: Iterable[Mapping[str, Any]], source: str, drops: DropReport
) -> Iterator[Candidate]:
    for row in rows:
        chosen, rejected = get_field(row, "chosen"), get_field(row, "rejected")
        if chosen is None or rejected is None:
            drops.add(source, "missing_field")
            continue
        c, r = split_transcript(chosen), split_transcript(rejected)
        if c is None or r is None:
            drops.add(source, "no_assistant_final_turn")
            continue
        if c[0] != r[0]:
            drops.add(source, "prompt_mismatch")
            continue
        yield c[0], c[1], r[1], None


def _subset_dir(path: Path, subset: str) -> Path | None:
    """``path/<subset>`` when ``path`` is a directory holding it, else ``None``.

    Raises:
        ValueError: ``path`` holds another subset's folder but not ``subset``'s (reading its
            files would label, e.g., harmless pairs as helpful).
    """
    if not path.is_dir():
        return None
    if (path / subset).is_dir():
        return path / subset
    others = [s for s in HH_SUBSETS if s != subset and (path / s).is_dir()]
    if others:
        raise ValueError(
            f"{path} holds {', '.join(o + '/' for o in others)} but no {subset}/ folder: "
            f"HH-RLHF {subset} pairs must come from {path / subset}"
        )
    return None


def load_hh_rlhf(
    path_or_name: str | os.PathLike[str] = HUB_NAME,
    subset: str = "helpful-base",
    split: str = "train",
    drops: DropReport | None = None,
    source: str | None = None,
) -> list[PreferencePair]:
    """Load HH-RLHF ``subset`` / ``split`` from the Hub or a local file / directory.

    Args:
        path_or_name: Hub name, a local file in the original schema, or a directory (holding
            ``<subset>/<split>.jsonl.gz`` or ``<split>.jsonl.gz``; a directory that holds only
            the other subset's folder is an error).
        subset: ``"helpful-base"`` or ``"harmless-base"``.
        split: ``"train"`` or ``"test"``.
        drops: report receiving the drop counts (a fresh one if ``None``).
        source: source name of the pairs (default ``hh_helpful`` / ``hh_harmless``).

    Raises:
        ValueError: unknown subset, or a directory holding only the other subset's folder;
        DataSourceError: unreadable source.
    """
    if subset not in HH_SUBSETS:
        raise ValueError(f"unknown HH-RLHF subset {subset!r}; valid: {', '.join(HH_SUBSETS)}")
    source = source or "hh_" + subset.split("-")[0]
    drops = drops if drops is not None else DropReport()
    path_or_name = _subset_dir(Path(path_or_name), subset) or path_or_name
    rows = read_rows(
        path_or_name,
        split=split,
        hub_name=HUB_NAME,
        data_dir=subset,
        required=("chosen", "rejected"),
        local_hint=local_hint(source, source, f"{subset}/{split}.jsonl.gz"),
    )
    return convert_hh_rlhf(rows, source, drops)


def convert_hh_rlhf(
    rows: Iterable[Mapping[str, Any]], source: str, drops: DropReport
) -> list[PreferencePair]:
    """Canonical pairs from HH-RLHF rows (module docstring); drops counted under ``source``."""
    return valid_pairs(_candidates(rows, source, drops), source, drops)
