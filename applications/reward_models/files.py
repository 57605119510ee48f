"""Files written atomically and JSON Lines read with ``file:line`` errors: one copy for the app.

Writers. :func:`write_text_atomic` (and :func:`write_json_atomic`, :func:`write_jsonl_atomic`)
write a temporary sibling, fsync it and ``os.replace`` it over the target, so a reader sees the
old file or the new one, never half of one. :func:`atomic_directory` does the same for a whole
directory (checkpoints, saved models): a crash leaves only ``<name>.tmp-<pid>`` siblings.
:func:`append_jsonl` appends one batch of records as one write, then fsyncs, so an interrupted run
loses at most the batch in flight.

Readers. :func:`iter_jsonl` is strict: every non-blank line must be a JSON object; a malformed
line, a non-object or bytes that are not UTF-8 raise ``ValueError("<file>:<line>: ...")``.
:func:`read_jsonl` is the resumable-output reader: a missing file is empty and a *truncated last
line* (an interrupted append) is counted and dropped; anything else is an error as above.

Failures name the file (and line) as :class:`DataFileError` (a ``ValueError``, printed by the
CLIs as one line): a truncated ``.gz``, plain text named ``.gz``, JSON nested too deeply for the
parser, a FIFO or device instead of a file (never opened: it would block), an unreadable file.
A failed write (disk full, quota, read-only) is a :class:`FileWriteError` naming the target; it
is both a ``ValueError`` and an ``OSError``.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DataFileError",
    "FileWriteError",
    "JsonlContents",
    "append_jsonl",
    "atomic_directory",
    "iter_jsonl",
    "jsonl_text",
    "read_jsonl",
    "repair_jsonl",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_jsonl_atomic",
    "write_text_atomic",
]

PathLike = str | os.PathLike[str]

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class DataFileError(ValueError):
    """A file that cannot be read as data; the message starts with ``<file>[:<line>]``."""


class FileWriteError(ValueError, OSError):
    """A file or folder could not be written (disk full, quota, read-only); names the target."""


def _write_failure(target: PathLike, err: OSError) -> FileWriteError:
    hint = " (is the disk full?)" if err.errno in _FULL else ""
    return FileWriteError(f"{target}: cannot write: {err.strerror or err}{hint}")


def check_regular_file(path: PathLike) -> None:
    """Refuse, without opening it, a path that is not a regular file (a FIFO would block).

    Raises:
        DataFileError: missing, a folder, a FIFO, a socket or a device.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise DataFileError(f"{path}: cannot read: {err.strerror or err}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
        raise DataFileError(f"{path}: not a regular file ({kind})")


def _fsync_dir(path: str | Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: str) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(dirpath)


def write_bytes_atomic(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a fsynced temporary sibling and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except FileWriteError:
        raise
    except OSError as err:
        raise _write_failure(path, err) from err
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


def write_text_atomic(path: PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 (see :func:`write_bytes_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def jsonl_text(records: Iterable[Mapping[str, Any]]) -> str:
    """``records`` as JSON Lines text (one object a line, UTF-8 kept, newline-terminated)."""
    return "".join(json.dumps(dict(r), ensure_ascii=False) + "\n" for r in records)


def write_json_atomic(
    path: PathLike, obj: Any, *, indent: int | None = 2, allow_nan: bool = True
) -> Path:
    """Write ``obj`` as JSON (see :func:`write_text_atomic`); ``allow_nan=False`` rejects NaN and
    infinities (strict JSON) with a ``ValueError`` before anything is written."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=allow_nan)
    return write_text_atomic(path, text + "\n")


def write_jsonl_atomic(path: PathLike, records: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``records`` as JSON Lines, one object per line (see :func:`write_text_atomic`)."""
    return write_text_atomic(path, jsonl_text(records))


def append_jsonl(path: PathLike, records: Iterable[Mapping[str, Any]]) -> int:
    """Append ``records`` as one write, then flush and fsync; returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = jsonl_text(records)
    if not payload:
        return 0
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise _write_failure(path, err) from err
    return payload.count("\n")


@contextmanager
def atomic_directory(final: PathLike) -> Iterator[str]:
    """Yield a temporary directory next to ``final``; on success it replaces ``final`` atomically.

    On an exception inside the block the temporary directory is removed and ``final`` (if it
    existed) is left untouched. The temporary name is ``<final>.tmp-<pid>``.
    """
    final = os.path.abspath(final)
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    tmp = f"{final}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        yield tmp
        _fsync_tree(tmp)
    except FileWriteError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FileWriteError(f"{final}: not saved: {err}") from err
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if err.errno in _FULL:
            raise _write_failure(final, err) from err
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if os.path.exists(final):
        # os.replace cannot replace a non-empty directory: move the old one aside first.
        old = f"{final}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    _fsync_dir(parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _parse_line(path: Path, number: int, raw: bytes) -> dict[str, Any] | None:
    """The object on one line, ``None`` for a blank line; ``ValueError`` naming file:line."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFileError(
            f"{path}:{number}: not UTF-8 text (byte {err.start} of the line); "
            "re-encode the file as UTF-8"
        ) from None
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise DataFileError(f"{path}:{number}: malformed JSON line ({err.msg})") from err
    except RecursionError:
        raise DataFileError(f"{path}:{number}: JSON nested too deeply to read") from None
    if not isinstance(record, dict):
        raise DataFileError(
            f"{path}:{number}: expected a JSON object per line, got {type(record).__name__}"
        )
    return record


def iter_jsonl(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of every non-blank line of a ``.jsonl`` (or ``.jsonl.gz``) file.

    Raises:
        DataFileError: a line that is not UTF-8, not JSON or not an object, truncated or fake
            gzip data (``<file>:<line>: ...``); missing, unreadable or not a regular file.
    """
    path = Path(path)
    check_regular_file(path)
    number = 0
    try:
        with _open_binary(path) as handle:
            for number, raw in enumerate(handle, start=1):
                record = _parse_line(path, number, raw)
                if record is not None:
                    yield number, record
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise _gzip_failure(path, number + 1, err) from None
    except OSError as err:
        raise DataFileError(f"{path}: cannot read: {err.strerror or err}") from None


def _gzip_failure(path: Path, line: int, err: Exception) -> DataFileError:
    if isinstance(err, EOFError):
        what = "the gzip data ends early (truncated file: an interrupted download or copy?)"
    elif isinstance(err, gzip.BadGzipFile) and line == 1:
        what = "not gzip data, although the name ends in .gz (plain text? rename it to .jsonl)"
    else:
        what = f"corrupt gzip data ({err})"
    return DataFileError(f"{path}:{line}: {what}")


@dataclass
class JsonlContents:
    """Records read from a JSONL file.

    Attributes:
        records: parsed objects in file order.
        truncated_lines: 0 or 1 — a final line that was not valid JSON (an interrupted append).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    truncated_lines: int = 0


def read_jsonl(path: PathLike) -> JsonlContents:
    """Read ``path`` (missing file → empty), tolerating a truncated final line (module docstring).

    Raises:
        ValueError: a line other than an unterminated last one is not a JSON object or not UTF-8
            (``<file>:<line>: ...``).
    """
    path = Path(path)
    out = JsonlContents()
    if not path.exists():
        return out
    check_regular_file(path)
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as err:
        raise DataFileError(f"{path}: cannot read: {err.strerror or err}") from None
    # A complete file ends with "\n": the final element is b"" and is not a record.
    last = len(lines)
    for number, raw in enumerate(lines, start=1):
        try:
            record = _parse_line(path, number, raw)
        except ValueError:
            if number == last:  # no newline after it: an interrupted append
                out.truncated_lines += 1
                continue
            raise
        if record is not None:
            out.records.append(record)
    return out


def _ends_with_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return True
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1) == b"\n"


def repair_jsonl(path: PathLike) -> int:
    """Drop a truncated final line in place (atomically) so that appends start on a fresh line.

    Returns:
        The number of truncated lines removed (0 or 1).
    """
    path = Path(path)
    contents = read_jsonl(path)
    if path.exists() and (contents.truncated_lines or not _ends_with_newline(path)):
        write_jsonl_atomic(path, contents.records)
    return contents.truncated_lines
