"""HH-RLHF conversion from local files in the original schema (.jsonl.gz, as on the Hub)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from applications.reward_models.data import DropReport, load_hh_rlhf
from applications.reward_models.data.hh_rlhf import split_transcript

CONV = "\n\nHuman: What is a good pasta sauce?\n\nAssistant: Tomato.\n\nHuman: How do I make it?"
ROWS = [
    # a normal two-turn row
    {
        "chosen": CONV + "\n\nAssistant: Simmer tomatoes with garlic.",
        "rejected": CONV + "\n\nAssistant: No idea.",
    },
    # final turn is a human turn
    {"chosen": CONV, "rejected": CONV + "\n\nAssistant: x"},
    # empty response
    {"chosen": CONV + "\n\nAssistant: Sure!", "rejected": CONV + "\n\nAssistant:   "},
    # identical responses
    {"chosen": CONV + "\n\nAssistant: Same.", "rejected": CONV + "\n\nAssistant: Same."},
    # prompts differ
    {"chosen": "\n\nHuman: A\n\nAssistant: x", "rejected": "\n\nHuman: B\n\nAssistant: y"},
    # missing / wrong type
    {"chosen": None, "rejected": "x"},
    # single-turn row
    {
        "chosen": "\n\nHuman: Hi\n\nAssistant: Hello! How can I help?",
        "rejected": "\n\nHuman: Hi\n\nAssistant: What.",
    },
]


def _write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def test_split_transcript() -> None:
    assert split_transcript(CONV + "\n\nAssistant: Hi") == (CONV + "\n\nAssistant:", "Hi")
    assert split_transcript(CONV) is None
    assert split_transcript("no markers") is None


def test_hh_conversion_and_drops(tmp_path: Path) -> None:
    path = _write(tmp_path / "helpful-base" / "train.jsonl.gz", ROWS)
    drops = DropReport()
    pairs = load_hh_rlhf(path, subset="helpful-base", split="train", drops=drops)
    assert len(pairs) == 2
    first = pairs[0]
    assert first.prompt == CONV + "\n\nAssistant:"
    assert first.chosen == "Simmer tomatoes with garlic." and first.rejected == "No idea."
    assert first.source == "hh_helpful" and first.margin is None
    assert drops.for_source("hh_helpful") == {
        "empty_response": 1,
        "identical_responses": 1,
        "missing_field": 1,
        "no_assistant_final_turn": 1,
        "prompt_mismatch": 1,
    }
    # nothing lost: kept + dropped = rows
    assert len(pairs) + drops.total == len(ROWS)


def test_hh_directory_layout_and_subset(tmp_path: Path) -> None:
    _write(tmp_path / "helpful-base" / "test.jsonl.gz", ROWS[:1])
    _write(tmp_path / "harmless-base" / "test.jsonl.gz", ROWS[-1:])
    harmless = load_hh_rlhf(tmp_path, subset="harmless-base", split="test")
    assert [p.source for p in harmless] == ["hh_harmless"]
    assert harmless[0].chosen == "Hello! How can I help?"
    helpful = load_hh_rlhf(tmp_path, subset="helpful-base", split="test", source="H")
    assert [p.source for p in helpful] == ["H"]
    with pytest.raises(ValueError, match="unknown HH-RLHF subset"):
        load_hh_rlhf(tmp_path, subset="red-team-attempts")


def test_helpful_from_a_directory_with_only_harmless_is_an_error(tmp_path: Path) -> None:
    # Old code read harmless-base/train.jsonl.gz through the directory walk and labelled its
    # pairs hh_helpful.
    _write(tmp_path / "harmless-base" / "train.jsonl.gz", ROWS)
    with pytest.raises(ValueError, match=r"harmless-base/ but no helpful-base/"):
        load_hh_rlhf(tmp_path, subset="helpful-base", split="train")
    assert len(load_hh_rlhf(tmp_path, subset="harmless-base", split="train")) == 2


def test_a_subset_folder_itself_still_loads(tmp_path: Path) -> None:
    _write(tmp_path / "helpful-base" / "train.jsonl.gz", ROWS)
    pairs = load_hh_rlhf(tmp_path / "helpful-base", subset="helpful-base", split="train")
    assert len(pairs) == 2
