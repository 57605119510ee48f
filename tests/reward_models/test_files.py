"""The shared file helpers: atomic writes, atomic directories, strict and tolerant JSONL reads."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.reward_models.files import (
    append_jsonl,
    atomic_directory,
    iter_jsonl,
    read_jsonl,
    repair_jsonl,
    write_bytes_atomic,
    write_json_atomic,
    write_jsonl_atomic,
    write_text_atomic,
)

RECORD = st.dictionaries(
    st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=8)), max_size=3
)


@settings(max_examples=30, deadline=None)
@given(records=st.lists(RECORD, max_size=6))
def test_jsonl_round_trip(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("j") / "x.jsonl"
    write_jsonl_atomic(path, records)
    assert read_jsonl(path).records == records
    assert [r for _, r in iter_jsonl(path)] == [r for r in records]


def test_writers_replace_whole_files_and_leave_no_temporary(tmp_path):
    write_text_atomic(tmp_path / "a.txt", "old")
    write_text_atomic(tmp_path / "a.txt", "new ü")
    write_json_atomic(tmp_path / "b.json", {"k": [1, 2]})
    write_bytes_atomic(tmp_path / "c.bin", b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "new ü"
    assert json.loads((tmp_path / "b.json").read_text()) == {"k": [1, 2]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json", "c.bin"]
    with pytest.raises(ValueError):
        write_json_atomic(tmp_path / "b.json", {"k": float("nan")}, allow_nan=False)
    assert json.loads((tmp_path / "b.json").read_text()) == {"k": [1, 2]}  # untouched


def test_atomic_directory_replaces_only_on_success(tmp_path):
    target = tmp_path / "out"
    with atomic_directory(target) as tmp:
        (tmp_path / "out.tmp-x").mkdir()  # an unrelated leftover is not touched
        open(f"{tmp}/a", "w").close()
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    with pytest.raises(KeyError), atomic_directory(target) as tmp:
        open(f"{tmp}/b", "w").close()
        raise KeyError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    with atomic_directory(target) as tmp:
        open(f"{tmp}/c", "w").close()
    assert sorted(p.name for p in target.iterdir()) == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.tmp-x"]


def test_strict_reader_names_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n\n[1]\n'))
    with pytest.raises(ValueError, match=r"a\.jsonl\.gz:3: expected a JSON object"):
        list(iter_jsonl(path))
    latin = tmp_path / "b.jsonl"
    latin.write_bytes(b'{"a": 1}\n{"a": "caf\xe9"}\n')
    with pytest.raises(ValueError, match=r"b\.jsonl:2: not UTF-8"):
        list(iter_jsonl(latin))
    with pytest.raises(ValueError, match=r"b\.jsonl:2: not UTF-8"):
        read_jsonl(latin)  # a complete (newline-terminated) bad line is not a truncation


def test_append_and_read_roundtrip(tmp_path):
    path = tmp_path / "sub" / "a.jsonl"
    assert append_jsonl(path, [{"a": 1}, {"b": "ü"}]) == 2
    assert append_jsonl(path, []) == 0
    append_jsonl(path, [{"c": [1, 2]}])
    got = read_jsonl(path)
    assert got.records == [{"a": 1}, {"b": "ü"}, {"c": [1, 2]}]
    assert got.truncated_lines == 0


def test_missing_file_is_empty(tmp_path):
    got = read_jsonl(tmp_path / "none.jsonl")
    assert got.records == [] and got.truncated_lines == 0


def test_truncated_last_line_is_counted_and_repaired(tmp_path):
    path = tmp_path / "a.jsonl"
    append_jsonl(path, [{"a": 1}, {"a": 2}])
    with path.open("a") as fh:
        fh.write('{"a": 3, "b"')  # a killed writer
    got = read_jsonl(path)
    assert [r["a"] for r in got.records] == [1, 2]
    assert got.truncated_lines == 1
    assert repair_jsonl(path) == 1
    append_jsonl(path, [{"a": 4}])
    got = read_jsonl(path)
    assert [r["a"] for r in got.records] == [1, 2, 4] and got.truncated_lines == 0


def test_complete_last_line_without_newline_is_kept_and_newline_added(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}')
    assert repair_jsonl(path) == 0
    append_jsonl(path, [{"a": 3}])
    assert [r["a"] for r in read_jsonl(path).records] == [1, 2, 3]


def test_malformed_middle_line_raises_with_location(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(ValueError, match=r"a\.jsonl:2"):
        read_jsonl(path)


def test_non_object_line_raises(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="JSON object"):
        read_jsonl(path)


def test_rjs_atomic_writers_leave_no_temporary(tmp_path):
    write_jsonl_atomic(tmp_path / "x.jsonl", [{"k": 1}])
    write_json_atomic(tmp_path / "x.json", {"k": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json", "x.jsonl"]
    assert read_jsonl(tmp_path / "x.jsonl").records == [{"k": 1}]
