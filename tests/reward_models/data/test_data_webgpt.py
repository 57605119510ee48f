"""WebGPT comparisons from a local .parquet file (nested ``question`` struct), seeded split."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from applications.reward_models.data import DropReport, load_webgpt


def _row(i: int, s0: float, a0: str = "answer zero", a1: str = "answer one") -> dict:
    return {
        "question": {"dataset": "eli5", "id": f"q{i}", "full_text": f"Question number {i}?"},
        "quotes_0": {"title": ["t"], "extract": ["e"]},
        "answer_0": a0,
        "tokens_0": {"prompt": [1], "completion": [2]},
        "score_0": s0,
        "quotes_1": {"title": ["t"], "extract": ["e"]},
        "answer_1": a1,
        "tokens_1": {"prompt": [1], "completion": [2]},
        "score_1": -s0,
    }


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    rows = [_row(i, [1.0, -0.5, 0.0, 0.25][i % 4]) for i in range(200)]
    rows.append(_row(999, 1.0, a0=""))
    path = tmp_path / "webgpt.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_preference_follows_score_sign(parquet: Path) -> None:
    drops = DropReport()
    train, test = load_webgpt(parquet, "train", drops), load_webgpt(parquet, "test", drops)
    pairs = train + test
    assert len(pairs) == 150
    for pair in pairs:
        i = int(pair.prompt.split()[-1].rstrip("?"))
        s0 = [1.0, -0.5, 0.0, 0.25][i % 4]
        assert (pair.chosen, pair.rejected) == (
            ("answer zero", "answer one") if s0 > 0 else ("answer one", "answer zero")
        )
        assert pair.margin == pytest.approx(2 * abs(s0)) and pair.source == "webgpt"
    assert drops.for_source("webgpt") == {"tie": 50, "empty_response": 1}


def test_seeded_test_split_is_disjoint_and_stable(parquet: Path) -> None:
    train, test = load_webgpt(parquet, "train"), load_webgpt(parquet, "test")
    assert 5 <= len(test) <= 30
    assert not {p.prompt for p in train} & {p.prompt for p in test}
    assert load_webgpt(parquet, "test") == test
    other = load_webgpt(parquet, "test", seed=1)
    assert {p.prompt for p in other} != {p.prompt for p in test}
    bigger = load_webgpt(parquet, "test", test_fraction=0.5)
    assert len(bigger) > len(test)


def test_ties_can_be_kept_as_soft_labels(parquet: Path) -> None:
    drops = DropReport()
    kept = load_webgpt(parquet, "train", drops, ties="keep") + load_webgpt(
        parquet, "test", drops, ties="keep"
    )
    assert len(kept) == 200 and sum(p.margin == 0.0 for p in kept) == 50
    assert drops.for_source("webgpt") == {"empty_response": 1}
    with pytest.raises(ValueError, match="ties"):
        load_webgpt(parquet, ties="maybe")
    with pytest.raises(ValueError, match="split"):
        load_webgpt(parquet, "validation")
