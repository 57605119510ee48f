"""Local file reading (all extensions), malformed-line errors and Hub error messages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from applications.reward_models.data import DataSourceError, read_local_rows
from applications.reward_models.data.io import is_local_path, load_hub_rows, read_rows

ROWS = [{"a": 1, "b": {"c": "x"}}, {"a": 2, "b": {"c": "y"}}]


def _write_all(tmp_path: Path) -> dict[str, Path]:
    paths = {ext: tmp_path / f"train{ext}" for ext in (".jsonl", ".jsonl.gz", ".json", ".parquet")}
    lines = "".join(json.dumps(r) + "\n" for r in ROWS)
    paths[".jsonl"].write_text(lines + "\n")  # a trailing blank line is skipped
    with gzip.open(paths[".jsonl.gz"], "wt", encoding="utf-8") as f:
        f.write(lines)
    paths[".json"].write_text(json.dumps({"data": ROWS}))
    pq.write_table(pa.Table.from_pylist(ROWS), paths[".parquet"])
    return paths


def test_every_extension_reads_the_same_rows(tmp_path: Path) -> None:
    for path in _write_all(tmp_path).values():
        assert read_local_rows(path) == ROWS, path
    plain = tmp_path / "list.json"
    plain.write_text(json.dumps(ROWS))
    assert read_local_rows(plain) == ROWS


def test_directory_reads_split_files(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "train" / "0000.parquet")
    (tmp_path / "test.jsonl").write_text(json.dumps({"a": 9}) + "\n")
    assert read_local_rows(tmp_path, "train") == ROWS
    assert read_local_rows(tmp_path, "test") == [{"a": 9}]
    with pytest.raises(DataSourceError, match="validation"):
        read_local_rows(tmp_path, "validation")


@pytest.mark.parametrize("compressed", [False, True])
def test_malformed_jsonl_line_names_file_and_line(tmp_path: Path, compressed: bool) -> None:
    text = json.dumps(ROWS[0]) + "\n\n" + '{"a": 2, "b": \n'
    path = tmp_path / ("bad.jsonl.gz" if compressed else "bad.jsonl")
    if compressed:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    with pytest.raises(ValueError, match=r"bad\.jsonl(\.gz)?:3: malformed JSON"):
        read_local_rows(path)


def test_non_object_rows_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"x\.jsonl:2: expected a JSON object"):
        read_local_rows(path)
    js = tmp_path / "x.json"
    js.write_text('{"rows": []}')
    with pytest.raises(ValueError, match="expected a JSON list"):
        read_local_rows(js)
    broken = tmp_path / "y.json"
    broken.write_text('[{"a": 1},\n {"a": }]')
    with pytest.raises(ValueError, match=r"y\.json:2"):
        read_local_rows(broken)


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        read_local_rows(tmp_path / "nope.jsonl")
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(DataSourceError, match="unsupported file type"):
        read_local_rows(tmp_path / "data.csv")
    assert is_local_path(tmp_path / "nope.parquet") and not is_local_path("Anthropic/hh-rlhf")


def test_hub_failure_names_the_local_file_option(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DataSourceError, match=r"--sources hh:hh_helpful:x\.jsonl") as info:
        read_rows(
            "nobody/no-such-dataset-mooptim",
            split="train",
            hub_name="nobody/no-such-dataset-mooptim",
            local_hint="--sources hh:hh_helpful:x.jsonl",
        )
    assert "no-such-dataset-mooptim" in str(info.value)
    with pytest.raises(DataSourceError, match=r"script dataset.*refs/convert/parquet"):
        load_hub_rows(
            "nobody/no-such-script-dataset",
            split="train",
            local_hint="a local file",
            parquet_export=True,
        )
