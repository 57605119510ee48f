from __future__ import annotations

import pytest

from applications.reward_models.rjs.jsonl import (
    append_jsonl,
    read_jsonl,
    repair_jsonl,
    write_json_atomic,
    write_jsonl_atomic,
)


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


def test_atomic_writers_leave_no_temporary(tmp_path):
    write_jsonl_atomic(tmp_path / "x.jsonl", [{"k": 1}])
    write_json_atomic(tmp_path / "x.json", {"k": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json", "x.jsonl"]
    assert read_jsonl(tmp_path / "x.jsonl").records == [{"k": 1}]
