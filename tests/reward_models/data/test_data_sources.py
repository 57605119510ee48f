"""SourceSpec / load_pairs dispatch: kinds, options, caps, errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from applications.reward_models.data import (
    SOURCE_KINDS,
    DataSourceError,
    DropReport,
    PreferenceSimulator,
    SourceSpec,
    load_pairs,
    save_pairs,
)


def _hh_file(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "train.jsonl.gz"
    with gzip.open(path, "wt") as f:
        for i in range(n):
            base = f"\n\nHuman: question {i}?\n\nAssistant:"
            f.write(json.dumps({"chosen": base + f" good {i}", "rejected": base + " bad"}) + "\n")
        f.write(json.dumps({"chosen": "\n\nHuman: x", "rejected": "\n\nHuman: x"}) + "\n")
    return path


def test_kinds_match_the_contract() -> None:
    from applications.reward_models.data.source_spec import SOURCE_OPTIONS

    assert set(SOURCE_KINDS) == set(SOURCE_OPTIONS)  # the torch-free table names every loader
    assert set(SOURCE_KINDS) - {"pairs"} == {
        "simulator",
        "hh_helpful",
        "hh_harmless",
        "oasst1",
        "webgpt",
        "summarize",
    }


def test_unknown_kind_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid kinds: simulator, hh_helpful"):
        SourceSpec(name="x", kind="shp")


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(ValueError, match="valid: lang, pairing"):
        SourceSpec(name="o", kind="oasst1", options={"language": "en"})


def test_simulator_spec_matches_the_simulator() -> None:
    spec = SourceSpec(name="verbose", kind="simulator", split="test")
    loaded = load_pairs(spec, DropReport(), max_pairs=7, seed=3)
    assert loaded == PreferenceSimulator(3).pairs("verbose", 7, "test")
    with pytest.raises(ValueError, match="unknown simulator source"):
        load_pairs(SourceSpec(name="nope", kind="simulator"))


def test_local_file_with_cap_and_drops(tmp_path: Path) -> None:
    path = _hh_file(tmp_path, 30)
    drops = DropReport()
    spec = SourceSpec(name="helpful", kind="hh_helpful", path=str(path))
    pairs = load_pairs(spec, drops)
    assert len(pairs) == 30 and {p.source for p in pairs} == {"helpful"}
    assert drops.to_dict() == {
        "total": 1,
        "by_source": {"helpful": {"no_assistant_final_turn": 1}},
    }
    capped = load_pairs(SourceSpec(name="helpful", kind="hh_helpful", path=str(path)), max_pairs=10)
    assert len(capped) == 10 and set(capped) <= set(pairs)
    order = [pairs.index(p) for p in capped]
    assert order == sorted(order)


def test_offline_hub_error_names_local_option(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DataSourceError, match=r"--sources hh_harmless:hh_harmless:harmless-base"):
        load_pairs(SourceSpec(name="hh_harmless", kind="hh_harmless"))
    with pytest.raises(DataSourceError, match="script dataset"):
        load_pairs(SourceSpec(name="webgpt", kind="webgpt"))


def test_canonical_pairs_round_trip_and_validation(tmp_path: Path) -> None:
    pairs = PreferenceSimulator(0).pairs("shared", 20)
    path = save_pairs(pairs, tmp_path / "out" / "pairs.jsonl.gz")
    loaded = load_pairs(SourceSpec(name="shared", kind="pairs", path=str(path)))
    assert loaded == pairs
    renamed = load_pairs(SourceSpec(name="mine", kind="pairs", path=str(path)))
    assert {p.source for p in renamed} == {"mine"}
    bad = tmp_path / "bad.jsonl"
    rows = [
        {"prompt": "q", "chosen": "a", "rejected": "b", "margin": 1},
        {"prompt": "q", "chosen": "a"},
        {"prompt": "q", "chosen": "a", "rejected": "b", "true_prob": 2.0},
        {"prompt": "q", "chosen": "a", "rejected": "b", "margin": "big"},
        {"prompt": "q", "chosen": "a", "rejected": " a "},
    ]
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    drops = DropReport()
    kept = load_pairs(SourceSpec(name="c", kind="pairs", path=str(bad)), drops)
    assert [(p.chosen, p.margin) for p in kept] == [("a", 1.0)]
    assert drops.for_source("c") == {"identical_responses": 1, "missing_field": 3}
    with pytest.raises(DataSourceError, match="needs a local path"):
        load_pairs(SourceSpec(name="c", kind="pairs"))
