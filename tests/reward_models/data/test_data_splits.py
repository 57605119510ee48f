"""The one split rule (data.splits): held-out data, seeds, disjoint train / calibration / test."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications.reward_models.data import DropReport, PreferenceSimulator, save_pairs
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.splits import (
    HELD_OUT_DROP,
    load_source_data,
    load_splits,
    load_test_pairs,
    seeded_unit,
)
from applications.reward_models.data.webgpt import in_test_split


def _pairs_file(path: Path, n: int = 48, duplicates: int = 0) -> Path:
    pairs = PreferenceSimulator(0).pairs("shared", n, split="train")
    return save_pairs(pairs + pairs[:duplicates], path)


def _hh_file(path: Path, n: int, start: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        for i in range(start, start + n):
            base = f"\n\nHuman: question {i}?\n\nAssistant:"
            f.write(json.dumps({"chosen": base + f" good {i}", "rejected": base + " bad"}) + "\n")
    return path


def _webgpt_file(path: Path, n: int = 300) -> Path:
    rows = [
        {
            "question": {"full_text": f"Question number {i}?"},
            "answer_0": f"a long answer {i}",
            "answer_1": "short",
            "score_0": 1.0,
            "score_1": -1.0,
        }
        for i in range(n)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _config(**changes) -> SimpleNamespace:
    """The attributes of a TrainConfig that load_source_data reads."""
    values = dict(
        sources=[],
        simulator_seed=0,
        seed=0,
        train_pairs_per_source=1000,
        test_pairs_per_source=0,
        max_length=512,
    )
    values.update(changes)
    return SimpleNamespace(**values)


def _source(name: str, kind: str, path: str, **changes) -> SourceSpec:
    return SourceSpec(name, kind, path, **changes)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from applications.reward_models.modeling.backbones import minilm_path

    return AutoTokenizer.from_pretrained(minilm_path())


# -- fix 1: one local file is never both the training and the test set --------------------------


def test_one_file_without_held_out_data_is_an_error(tmp_path: Path, tokenizer) -> None:
    # Old code: 48 of 48 test pairs were training pairs, no warning.
    path = _pairs_file(tmp_path / "all.jsonl")
    config = _config(sources=[_source("mine", "pairs", str(path))])
    with pytest.raises(ValueError, match="both the training and the test set"):
        load_source_data(config, tokenizer)
    with pytest.raises(ValueError, match="holdout_fraction"):
        load_splits(
            [SourceSpec("h", "hh_helpful", str(_hh_file(tmp_path / "hh.jsonl.gz", 10)))],
            data_seed=0,
            train_pairs=None,
            test_pairs=None,
        )


def test_holdout_fraction_removes_the_test_pairs_from_training(tmp_path: Path) -> None:
    path = _pairs_file(tmp_path / "all.jsonl", n=200)
    spec = SourceSpec("mine", "pairs", str(path), holdout_fraction=0.25)
    data = load_splits([spec], data_seed=3, train_pairs=None, test_pairs=None)
    train, test = data.train["mine"], data.test["mine"]
    assert test and train and len(train) + len(test) == 200
    assert not {p.prompt for p in train} & {p.prompt for p in test}
    assert all(seeded_unit(3, p.prompt) < 0.25 for p in test)
    again = load_splits([spec], data_seed=3, train_pairs=None, test_pairs=None)
    assert again.test == data.test
    other = load_splits([spec], data_seed=4, train_pairs=None, test_pairs=None)
    assert set(other.test["mine"]) != set(test)
    assert load_test_pairs([spec], data_seed=3, test_pairs=None) == data.test
    assert data.rule["test"]["mine"].startswith("holdout_fraction 0.25")


def test_test_path_and_directories_keep_working(tmp_path: Path) -> None:
    train = _hh_file(tmp_path / "d" / "train.jsonl.gz", 20)
    _hh_file(tmp_path / "d" / "test.jsonl.gz", 5, start=100)
    test_file = _hh_file(tmp_path / "t.jsonl.gz", 7, start=200)
    by_dir = SourceSpec("a", "hh_helpful", str(tmp_path / "d"))
    by_file = SourceSpec("b", "hh_helpful", str(train), test_path=str(test_file))
    data = load_splits([by_dir, by_file], data_seed=0, train_pairs=None, test_pairs=None)
    assert [len(data.train[n]) for n in "ab"] == [20, 20]
    assert [len(data.test[n]) for n in "ab"] == [5, 7]
    assert data.drops.total == 0


def test_training_pairs_equal_to_test_pairs_are_dropped_and_counted(tmp_path: Path) -> None:
    pairs = PreferenceSimulator(0).pairs("shared", 30, split="train")
    save_pairs(pairs, tmp_path / "train.jsonl")
    save_pairs(pairs[:4], tmp_path / "test.jsonl")
    data = load_splits(
        [
            SourceSpec(
                "p", "pairs", str(tmp_path / "train.jsonl"), test_path=str(tmp_path / "test.jsonl")
            )
        ],
        data_seed=0,
        train_pairs=None,
        test_pairs=None,
    )
    assert set(data.train["p"]).isdisjoint(data.test["p"])
    assert data.drops.for_source("p")[HELD_OUT_DROP] == len(pairs) - len(data.train["p"]) > 0


def test_spec_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="holdout_fraction must lie in"):
        SourceSpec("x", "pairs", "f.jsonl", holdout_fraction=1.0)
    with pytest.raises(ValueError, match="not both"):
        SourceSpec("x", "pairs", "f.jsonl", test_path="t.jsonl", holdout_fraction=0.1)
    with pytest.raises(ValueError, match="own test prompts"):
        SourceSpec("shared", holdout_fraction=0.1)
    with pytest.raises(ValueError, match="duplicated"):
        load_splits([SourceSpec("shared")] * 2, data_seed=0, train_pairs=4, test_pairs=4)


# -- fix 2: one data seed for every split, never the training seed -----------------------------


def test_webgpt_test_split_uses_the_data_seed_not_the_training_seed(
    tmp_path: Path, tokenizer
) -> None:
    # Old code drew the training test split with config.seed and the evaluate CLI's with
    # simulator_seed: a model trained with seed 1 was evaluated mostly on training questions.
    from applications.reward_models.evaluation.evaluator import load_eval_pairs

    path = str(_webgpt_file(tmp_path / "webgpt.parquet"))
    config = _config(sources=[_source("web", "webgpt", path)], seed=1, simulator_seed=0)
    trained = load_source_data(config, tokenizer)
    test_questions = {p.prompt for p in trained.test["web"]}
    assert test_questions and all(in_test_split(q, 0, 0.1) for q in test_questions)
    evaluated = load_eval_pairs([SourceSpec("web", "webgpt", path)], None, simulator_seed=0)
    assert {p.prompt for p in evaluated["web"]} == test_questions
    assert not test_questions & {p.prompt for p in trained.train["web"]}
    assert trained.rule["data_seed"] == 0


def test_simulator_splits_follow_the_data_seed() -> None:
    spec = SourceSpec("verbose")
    data = load_splits([spec], data_seed=2, train_pairs=6, test_pairs=5)
    sim = PreferenceSimulator(2)
    assert data.train["verbose"] == sim.pairs("verbose", 6, "train")
    assert data.test["verbose"] == sim.pairs("verbose", 5, "test")
    assert data.calibration["verbose"] == []
    assert load_test_pairs([spec], data_seed=2, test_pairs=5) == data.test


# -- train / calibration / test never overlap --------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    holdout=st.floats(0.05, 0.6),
    calibration=st.floats(0.0, 0.6),
    duplicates=st.integers(0, 20),
)
def test_train_calibration_and_test_never_overlap(
    tmp_path: Path, seed: int, holdout: float, calibration: float, duplicates: int
) -> None:
    path = tmp_path / f"all-{duplicates}.jsonl"
    if not path.exists():
        _pairs_file(path, n=80, duplicates=duplicates)
    drops = DropReport()
    data = load_splits(
        [SourceSpec("p", "pairs", str(path), holdout_fraction=holdout)],
        data_seed=seed,
        train_pairs=None,
        test_pairs=None,
        calibration_fraction=calibration,
        drops=drops,
    )
    train, cal, test = (set(d["p"]) for d in (data.train, data.calibration, data.test))
    assert not train & cal and not train & test and not cal & test
    prompts = [{p.prompt for p in s} for s in (train, cal, test)]
    assert not prompts[0] & prompts[1] and not prompts[0] & prompts[2]
    total = sum(len(d["p"]) for d in (data.train, data.calibration, data.test))
    assert total == 80 + duplicates  # nothing lost: duplicates share their prompt's split


def test_zero_test_pairs_means_all_real_and_no_simulator_pairs(tmp_path: Path, tokenizer) -> None:
    train = _hh_file(tmp_path / "d" / "train.jsonl.gz", 6)
    _hh_file(tmp_path / "d" / "test.jsonl.gz", 9, start=50)
    sources = [_source("shared", "simulator", None), _source("h", "hh_helpful", str(train.parent))]
    config = _config(sources=sources, train_pairs_per_source=5, test_pairs_per_source=0)
    data = load_source_data(config, tokenizer)
    assert data.test == {"shared": [], "h": data.test["h"]} and len(data.test["h"]) == 9
    assert len(data.train["shared"]) == 5 and data.calibration == {"shared": [], "h": []}


def test_configured_specs_are_the_config_sources_or_every_simulator_source() -> None:
    from applications.reward_models.data.splits import configured_specs

    full = SourceSpec(
        name="a", kind="pairs", path="x.jsonl", split="dev", test_split=None,
        test_path="t.jsonl", cap_train=True, options={},
    )  # fmt: skip
    assert configured_specs(SimpleNamespace(sources=[full], simulator_seed=0)) == [full]
    every = configured_specs(SimpleNamespace(sources=[], simulator_seed=0))
    assert [s.name for s in every] == PreferenceSimulator(0).source_names
