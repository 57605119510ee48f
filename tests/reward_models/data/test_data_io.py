"""Local file reading (all extensions), malformed-line errors and Hub error messages."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from applications.reward_models.data import DataSourceError, read_local_rows
from applications.reward_models.data.io import (
    is_local_path,
    load_hub_rows,
    read_rows,
    spelled_as_path,
)

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


def test_missing_packages_say_how_to_install_from_a_checkout(monkeypatch, tmp_path) -> None:
    # mooptim is not on PyPI: the hints name the editable install, never ``mooptim[...]``.
    parquet = tmp_path / "x.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    monkeypatch.setitem(sys.modules, "datasets", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataSourceError, match="local file") as hub:
        load_hub_rows("nobody/x", split="train", local_hint="a local file")
    with pytest.raises(DataSourceError, match=r"x\.parquet needs pyarrow") as local:
        read_local_rows(parquet)
    for info in (hub, local):
        assert 'pip install -e ".[rm]"' in str(info.value)
        assert "mooptim[" not in str(info.value)


# --- errors that name the file (each failed silently or without a file name before) ---------


def _spec_from_cli(text: str):
    from applications.reward_models.data.sources import SourceSpec
    from applications.reward_models.training.config import parse_source

    source = parse_source(text)
    return SourceSpec(name=source.name, kind=source.kind, path=source.path)


def test_empty_file_fails_naming_it(tmp_path: Path) -> None:
    from applications.reward_models.data.sources import load_pairs

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataSourceError, match=r"empty\.jsonl: no rows"):
        load_pairs(_spec_from_cli(f"e:hh_harmless:{empty}"))
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n")
    with pytest.raises(DataSourceError, match=r"blank\.jsonl: no rows"):
        read_local_rows(blank)


@pytest.mark.parametrize(
    ("kind", "row", "missing"),
    [
        ("hh_harmless", {"question": "q", "answer_0": "a"}, "chosen, rejected"),
        ("pairs", {"chosen": "a", "rejected": "b"}, "prompt"),
        ("webgpt", {"chosen": "a", "rejected": "b"}, "question"),
        ("summarize", {"prompt": "p", "chosen": "a", "rejected": "b"}, "info"),
        ("oasst1", {"prompt": "p", "chosen": "a", "rejected": "b"}, "message_id"),
    ],
)
def test_file_of_another_schema_fails_naming_file_and_fields(tmp_path, kind, row, missing):
    from applications.reward_models.data.schema import DropReport
    from applications.reward_models.data.sources import load_pairs

    path = tmp_path / "other.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    drops = DropReport()
    with pytest.raises(DataSourceError, match=r"other\.jsonl: no row has the fields") as info:
        load_pairs(_spec_from_cli(f"s:{kind}:{path}"), drops)
    assert f"missing from every row: {missing}" in str(info.value)
    assert "Is the source kind right" in str(info.value)


def test_rows_missing_some_fields_are_still_counted_drops(tmp_path: Path) -> None:
    from applications.reward_models.data.schema import DropReport
    from applications.reward_models.data.sources import load_pairs

    good = {"prompt": "p", "chosen": "a", "rejected": "b"}
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({"prompt": "p", "chosen": "a"}) + "\n")
    drops = DropReport()
    assert len(load_pairs(_spec_from_cli(f"s:pairs:{path}"), drops)) == 1
    assert drops.for_source("s") == {"missing_field": 1}


@pytest.mark.parametrize("name", ["latin1.jsonl", "latin1.jsonl.gz", "latin1.json"])
def test_non_utf8_file_names_file_and_line(tmp_path: Path, name: str) -> None:
    good = json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}).encode()
    bad = '{"prompt": "café", "chosen": "a", "rejected": "b"}'.encode("latin-1")
    if name.endswith(".json"):
        data = b"[" + good + b",\n" + bad + b"]"
    else:
        data = good + b"\n" + bad + b"\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(ValueError, match=r"latin1\.jsonl?(\.gz)?:2: not UTF-8") as info:
        read_local_rows(path)
    assert not isinstance(info.value, UnicodeDecodeError)


def test_spelled_as_path_tells_paths_from_hub_ids():
    assert all(spelled_as_path(p) for p in ("/a/b", "./m", "../m", "~/m"))
    assert not any(spelled_as_path(n) for n in ("Anthropic/hh-rlhf", "minilm", "org/model"))
