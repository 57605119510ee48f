"""Summarize-from-feedback comparisons from local .json files (list and {"data": [...]})."""

from __future__ import annotations

import json
from pathlib import Path

from applications.reward_models.data import DropReport, load_summarize


def _row(info: dict, texts: list[str], choice) -> dict:
    return {
        "info": info,
        "split": "train",
        "summaries": [{"text": t, "policy": "sup2", "note": None} for t in texts],
        "choice": choice,
        "worker": "w",
        "batch": "b",
        "extra": {"confidence": 7},
    }


REDDIT = {
    "id": "t3_1",
    "post": "My cat ignores me.\n",
    "title": "Cat problems",
    "subreddit": "cats",
    "site": None,
    "article": None,
}
CNNDM = {
    "id": "cnn1",
    "post": None,
    "title": "Storm hits coast",
    "subreddit": None,
    "site": "cnn",
    "article": "A big storm hit the coast today.",
}
ROWS = [
    _row(REDDIT, [" cat ignores owner", "owner sad"], 1),
    _row(CNNDM, ["storm hits", "weather"], 0),
    _row(REDDIT, ["a", "b"], 2),
    _row(REDDIT, ["same", "same"], 0),
    _row({"id": "x"}, ["a", "b"], 0),
]


def test_prompts_choice_and_drops(tmp_path: Path) -> None:
    path = tmp_path / "comparisons.json"
    path.write_text(json.dumps(ROWS))
    drops = DropReport()
    pairs = load_summarize(path, drops=drops)
    assert len(pairs) == 2
    reddit, cnn = pairs
    assert reddit.prompt == (
        "SUBREDDIT: r/cats\n\nTITLE: Cat problems\n\nPOST: My cat ignores me.\n\nTL;DR:"
    )
    assert (reddit.chosen, reddit.rejected) == ("owner sad", "cat ignores owner")
    assert (
        cnn.prompt
        == "TITLE: Storm hits coast\n\nARTICLE: A big storm hit the coast today.\n\nTL;DR:"
    )
    assert (cnn.chosen, cnn.rejected) == ("storm hits", "weather")
    assert drops.for_source("summarize") == {
        "bad_choice": 1,
        "identical_responses": 1,
        "missing_field": 1,
    }


def test_data_wrapped_json_and_test_split_alias(tmp_path: Path) -> None:
    folder = tmp_path / "summarize"
    folder.mkdir()
    (folder / "validation.json").write_text(json.dumps({"data": ROWS[:2]}))
    (folder / "train.json").write_text(json.dumps({"data": ROWS[:1]}))
    assert len(load_summarize(folder, split="test", source="tldr")) == 2
    assert [p.source for p in load_summarize(folder, split="train", source="tldr")] == ["tldr"]
