"""Crash-tolerant JSON Lines files: the on-disk format of every RJS stage.

Each stage appends one JSON object per line and flushes + fsyncs after every batch, so an
interrupted run loses at most the batch in flight. A killed process can leave a *truncated last
line*; readers tolerate exactly that (it is counted, reported and dropped) but reject a malformed
line anywhere else, naming the file and line, because that means the file was corrupted rather
than interrupted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class JsonlContents:
    """Records read from a JSONL file.

    Attributes:
        records: parsed objects in file order.
        truncated_lines: 0 or 1 — a final line that was not valid JSON (an interrupted append).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    truncated_lines: int = 0


def read_jsonl(path: str | os.PathLike[str]) -> JsonlContents:
    """Read ``path`` (missing file → empty), tolerating a truncated final line.

    Raises:
        ValueError: a line other than the last is not a JSON object (with file and line number).
    """
    path = Path(path)
    out = JsonlContents()
    if not path.exists():
        return out
    lines = path.read_text(encoding="utf-8").split("\n")
    # A complete file ends with "\n", so the final element is "" and is not a record.
    last = len(lines) - 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            if number - 1 == last:
                out.truncated_lines += 1
                continue
            raise ValueError(f"{path}:{number}: malformed JSON line ({err.msg})") from err
        if not isinstance(record, dict):
            raise ValueError(
                f"{path}:{number}: expected a JSON object, got {type(record).__name__}"
            )
        out.records.append(record)
    return out


def repair_jsonl(path: str | os.PathLike[str]) -> int:
    """Drop a truncated final line in place (atomically) so that appends start on a fresh line.

    Returns:
        The number of truncated lines removed (0 or 1).
    """
    path = Path(path)
    contents = read_jsonl(path)
    if path.exists() and (contents.truncated_lines or not _ends_with_newline(path)):
        write_jsonl_atomic(path, contents.records)
    return contents.truncated_lines


def _ends_with_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return True
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


def append_jsonl(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> int:
    """Append ``records`` as one write, then flush and fsync; returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(dict(r), ensure_ascii=False) + "\n" for r in records)
    if not payload:
        return 0
    with path.open("a", encoding="utf-8") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    return payload.count("\n")


def write_jsonl_atomic(path: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> None:
    """Write ``records`` to a temporary sibling and ``os.replace`` it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(dict(r), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
