"""OASST1 message trees → ranked pairs, from local .jsonl and .parquet files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from applications.reward_models.data import DropReport, load_oasst1


def _msg(mid, parent, role, text, rank=None, lang="en", deleted=False, tree="t1"):
    return {
        "message_id": mid,
        "parent_id": parent,
        "user_id": "u",
        "text": text,
        "role": role,
        "lang": lang,
        "review_count": 3,
        "review_result": True,
        "deleted": deleted,
        "rank": rank,
        "synthetic": False,
        "model_name": None,
        "message_tree_id": tree,
    }


MESSAGES = [
    _msg("p1", None, "prompter", "How do I boil an egg?"),
    _msg("a1", "p1", "assistant", "Boil it for 8 minutes.", rank=0),
    _msg("a2", "p1", "assistant", "Put it in water.", rank=1),
    _msg("a3", "p1", "assistant", "Eggs are round.", rank=2),
    _msg("a4", "p1", "assistant", "Deleted reply.", rank=3, deleted=True),
    _msg("a5", "p1", "assistant", "Unranked reply."),
    _msg("a6", "p1", "assistant", "NaN rank (pandas null).", rank=float("nan")),
    # follow-up turn: the prompt is rebuilt from the chain p1 → a1 → p2
    _msg("p2", "a1", "prompter", "Soft or hard?"),
    _msg("b1", "p2", "assistant", "Soft: 6 minutes.", rank=0),
    _msg("b2", "p2", "assistant", "Hard.", rank=1),
    # other language
    _msg("q1", None, "prompter", "Wie koche ich ein Ei?", lang="de", tree="t2"),
    _msg("c1", "q1", "assistant", "Acht Minuten.", rank=0, lang="de", tree="t2"),
    _msg("c2", "q1", "assistant", "Nicht.", rank=1, lang="de", tree="t2"),
    # single ranked reply
    _msg("r1", None, "prompter", "Hi", tree="t3"),
    _msg("d1", "r1", "assistant", "Hello", rank=0, tree="t3"),
    # tie
    _msg("s1", None, "prompter", "Tie?", tree="t4"),
    _msg("e1", "s1", "assistant", "One", rank=0, tree="t4"),
    _msg("e2", "s1", "assistant", "Two", rank=0, tree="t4"),
    # deleted parent: broken thread
    _msg("x1", None, "prompter", "gone", deleted=True, tree="t5"),
    _msg("f1", "x1", "assistant", "A", rank=0, tree="t5"),
    _msg("f2", "x1", "assistant", "B", rank=1, tree="t5"),
]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "oasst1_train.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in MESSAGES))
    return path


def test_best_vs_worst(jsonl: Path) -> None:
    drops = DropReport()
    pairs = load_oasst1(jsonl, drops=drops)
    by_prompt = {p.prompt: p for p in pairs}
    assert len(pairs) == 2
    first = by_prompt["\n\nHuman: How do I boil an egg?\n\nAssistant:"]
    assert (first.chosen, first.rejected, first.margin) == (
        "Boil it for 8 minutes.",
        "Eggs are round.",
        2.0,
    )
    follow = (
        "\n\nHuman: How do I boil an egg?\n\nAssistant: Boil it for 8 minutes."
        "\n\nHuman: Soft or hard?\n\nAssistant:"
    )
    assert by_prompt[follow].chosen == "Soft: 6 minutes."
    assert drops.for_source("oasst1") == {
        "broken_thread": 2,
        "deleted": 1,
        "single_reply": 1,
        "tie": 1,
        "unranked": 2,
        "wrong_language": 2,
    }


def test_all_pairs_and_language(jsonl: Path) -> None:
    pairs = load_oasst1(jsonl, pairing="all")
    first = [p for p in pairs if p.prompt.endswith("boil an egg?\n\nAssistant:")]
    assert sorted((p.chosen, p.rejected) for p in first) == sorted(
        [
            ("Boil it for 8 minutes.", "Put it in water."),
            ("Boil it for 8 minutes.", "Eggs are round."),
            ("Put it in water.", "Eggs are round."),
        ]
    )
    german = load_oasst1(jsonl, lang="de")
    assert [(p.chosen, p.rejected) for p in german] == [("Acht Minuten.", "Nicht.")]
    everything = load_oasst1(jsonl, lang=None)
    assert len(everything) == 3
    with pytest.raises(ValueError, match="pairing"):
        load_oasst1(jsonl, pairing="random")


def test_parquet_matches_jsonl(jsonl: Path, tmp_path: Path) -> None:
    path = tmp_path / "validation.parquet"
    pq.write_table(pa.Table.from_pylist(MESSAGES), path)
    assert load_oasst1(path, split="test") == load_oasst1(jsonl)
