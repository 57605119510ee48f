"""Bad data files give one ``file:line: what`` error, never a traceback (issue 22): truncated
``.gz``, plain text named ``.gz``, deeply nested JSON, FIFOs, unreadable folders, disk full; and a
fuzz test of the JSONL reader."""

from __future__ import annotations

import errno
import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications.reward_models.data.io import DataSourceError, read_local_rows
from applications.reward_models.files import (
    DataFileError,
    FileWriteError,
    append_jsonl,
    atomic_directory,
    iter_jsonl,
    read_jsonl,
    write_text_atomic,
)

ROW = {"chosen": "a", "rejected": "b"}


def _rows(path: Path) -> list[dict]:
    return [row for _line, row in iter_jsonl(path)]


def test_truncated_gzip_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    data = gzip.compress(("\n".join(json.dumps(ROW) for _ in range(2000)) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match=rf"{path}:\d+: the gzip data ends early"):
        _rows(path)
    with pytest.raises(ValueError, match="ends early"):
        read_local_rows(path)


def test_plain_text_named_gz_says_so(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    path.write_text(json.dumps(ROW) + "\n")
    with pytest.raises(DataFileError, match=rf"{path}:1: not gzip data.*rename it"):
        read_local_rows(path)


def test_corrupt_gzip_body(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    data = bytearray(gzip.compress((json.dumps(ROW) + "\n").encode() * 500))
    data[30:60] = b"\xff" * 30
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match=rf"{path}:\d+: "):
        _rows(path)


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_deeply_nested_json(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(('{"chosen": ' + deep + "}\n") if suffix == ".jsonl" else deep)
    with pytest.raises(ValueError, match=rf"{path}(:1)?: JSON nested too deeply"):
        read_local_rows(path)


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    with pytest.raises(DataFileError, match=rf"{fifo}: not a regular file \(a FIFO"):
        read_local_rows(fifo)
    with pytest.raises(DataFileError, match="not a regular file"):
        read_jsonl(fifo)


def test_an_unreadable_sub_folder_is_an_error_not_a_silent_skip(tmp_path, monkeypatch) -> None:
    (tmp_path / "train.jsonl").write_text(json.dumps(ROW) + "\n")
    locked = tmp_path / "more"
    locked.mkdir()
    (locked / "train-2.jsonl").write_text(json.dumps(ROW) + "\n")
    real_scandir = os.scandir

    def scandir(path="."):  # what chmod 000 does for a non-root user
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DataSourceError, match=rf"{locked}: cannot list the folder: Permission"):
        read_local_rows(tmp_path, "train")


def test_an_unreadable_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "train.json"
    path.write_text("[]")

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DataSourceError, match=rf"{path}: cannot read: Permission denied"):
        read_local_rows(path)


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    "write",
    [
        lambda p: write_text_atomic(p, "x"),
        lambda p: append_jsonl(p, [ROW]),
    ],
    ids=["atomic write", "append"],
)
def test_disk_full_names_the_file(tmp_path, monkeypatch, write) -> None:
    target = tmp_path / "out.jsonl"
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(FileWriteError, match=rf"{target}: cannot write: No space.*disk full"):
        write(target)
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_disk_full_while_saving_a_folder(tmp_path) -> None:
    final = tmp_path / "checkpoint-0000002"
    full = rf"{final}: cannot write.*disk full"
    with pytest.raises(FileWriteError, match=full) as err, atomic_directory(final) as tmp:
        Path(tmp, "a").write_text("x")
        _disk_full()
    assert isinstance(err.value, OSError) and isinstance(err.value, ValueError)
    assert list(tmp_path.iterdir()) == []


_LINE = st.one_of(
    st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3).map(
        lambda d: json.dumps(d).encode()
    ),
    st.binary(max_size=40),
    st.integers(1, 3000).map(lambda n: b'{"a": ' + b"[" * n + b"]" * n + b"}"),
    st.sampled_from([b"", b"[]", b"null", b"\xff\xfe", b'{"a": 1', b"\x00"]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_LINE, max_size=8), gz=st.sampled_from(["none", "gzip", "cut", "fake"]))
def test_fuzz_the_jsonl_reader_gives_rows_or_one_error_naming_the_file(
    tmp_path_factory, lines: list[bytes], gz: str
) -> None:
    """Any bytes, plain or gzip (whole, cut short, or plain bytes named .gz): the rows, or exactly
    one ValueError naming the file — never another exception type. Bounded by the input size
    (≤ 8 lines of ≤ 6 kB) and the parser's own depth limit."""
    body = b"\n".join(lines) + b"\n"
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / ("rows.jsonl" if gz == "none" else "rows.jsonl.gz")
    if gz == "gzip":
        body = gzip.compress(body)
    elif gz == "cut":
        body = gzip.compress(body)[: max(1, len(gzip.compress(body)) // 2)]
    path.write_bytes(body)
    for read in (_rows, lambda p: read_jsonl(p).records if gz == "none" else _rows(p)):
        try:
            rows = read(path)
        except ValueError as err:
            assert str(err).startswith(str(path)), err
        else:
            assert all(isinstance(r, dict) for r in rows)
