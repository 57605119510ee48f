"""Reading preference data in its original schema: local files and the Hugging Face Hub.

Local files (rows are dicts, in the source's ORIGINAL schema):

- ``.jsonl`` / ``.jsonl.gz``: one JSON object per line (blank lines skipped); a malformed line or
  bytes that are not UTF-8 raise ``ValueError("<file>:<line>: ...")``
  (:func:`applications.reward_models.files.iter_jsonl`).
- ``.json``: a list of objects, or ``{"data": [...]}``.
- ``.parquet``: read with pyarrow (nested structs become dicts).
- a directory: every supported file in it (recursively, sorted by path) whose name starts with
  the split name (``train.jsonl.gz``, ``train-00000-of-00001.parquet``, ``train/0000.parquet``).

Hub datasets are loaded with ``datasets.load_dataset``. WebGPT and Summarize-from-feedback are
*script* datasets, which ``datasets`` ≥ 4 refuses to run; for them the Hub's automatic Parquet
conversion (revision ``refs/convert/parquet``, path alias ``@~parquet``) is read instead. Any
failure (offline, no such dataset, missing package) is re-raised as :class:`DataSourceError`,
whose message names the local-file option.

A source that cannot hold a single pair is an error naming the file (:func:`check_rows`): an empty
file, or one in which no row has the fields the source kind reads (a file of another schema, or
the wrong kind on the command line). Rows lacking only some fields are counted drops, as before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from applications.reward_models.files import DataFileError, check_regular_file, iter_jsonl

__all__ = [
    "LOCAL_EXTENSIONS",
    "DataSourceError",
    "check_rows",
    "is_local_path",
    "load_hub_rows",
    "read_local_rows",
    "read_rows",
]

LOCAL_EXTENSIONS: tuple[str, ...] = (".jsonl.gz", ".jsonl", ".json", ".parquet")


class DataSourceError(ValueError):
    """A source could not be read (bad path, unreadable file, Hub unavailable)."""


def _extension(path: Path) -> str | None:
    name = path.name.lower()
    return next((ext for ext in LOCAL_EXTENSIONS if name.endswith(ext)), None)


def spelled_as_path(name: str) -> bool:
    """True if ``name`` is written as a filesystem path (absolute, ``./``, ``../`` or ``~``):
    a hub id never is, so such a name that does not exist is a missing file, not a hub name."""
    return name.startswith(("/", "./", "../", "~"))


def is_local_path(path_or_name: str | os.PathLike[str]) -> bool:
    """True if ``path_or_name`` exists locally or looks like a file (has a supported extension)."""
    path = Path(path_or_name)
    return path.exists() or _extension(path) is not None


def _read_bytes(path: Path) -> bytes:
    check_regular_file(path)
    try:
        return path.read_bytes()
    except OSError as err:
        raise DataSourceError(f"{path}: cannot read: {err.strerror or err}") from None


def _read_json(path: Path) -> list[dict[str, Any]]:
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text; re-encode the file as UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}:{err.lineno}: malformed JSON ({err.msg})") from err
    except RecursionError:
        raise DataFileError(f"{path}: JSON nested too deeply to read") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of rows or {{'data': [...]}}")
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise ValueError(f"{path}: row {i} is a {type(row).__name__}, expected an object")
    return data


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:  # pyarrow is a dependency of datasets, rarely missing
        raise DataSourceError(
            f"reading {path} needs pyarrow: pip install pyarrow"
            ' (or, from a mooptim checkout: pip install -e ".[rm]")'
        ) from err
    check_regular_file(path)
    try:
        return pq.read_table(path).to_pylist()
    except Exception as err:
        raise DataSourceError(f"{path}: cannot read Parquet file ({err})") from err


def _read_file(path: Path) -> list[dict[str, Any]]:
    ext = _extension(path)
    if ext in (".jsonl.gz", ".jsonl"):
        return [row for _line, row in iter_jsonl(path)]
    if ext == ".json":
        return _read_json(path)
    if ext == ".parquet":
        return _read_parquet(path)
    raise DataSourceError(
        f"{path}: unsupported file type; expected one of {', '.join(LOCAL_EXTENSIONS)}"
    )


def read_local_rows(
    path: str | os.PathLike[str], split: str | None = None, required: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """All rows of a local file, or of the ``split`` files of a local directory (module docstring).

    Args:
        path: a file or a directory.
        split: which files of a directory to read (ignored for a file).
        required: the fields (``"a.b"``: nested) the source kind reads; see :func:`check_rows`.

    Raises:
        DataSourceError: missing path, unsupported extension, no matching file in a directory,
            an unreadable file or folder, an empty file, or a file in which no row has the
            ``required`` fields.
        ValueError: malformed or too deeply nested JSON, non-UTF-8 bytes, truncated or fake gzip
            data, a FIFO or device (the message names the file and line).
    """
    root = Path(path)
    if not root.exists():
        raise DataSourceError(f"local data file {root} does not exist")
    if not root.is_dir():  # a file, or a FIFO / device, refused unopened
        return check_rows(_read_file(root), str(root), required)
    files = [p for p in _walk_files(root) if _extension(p) is not None]
    if split is not None:
        files = [p for p in files if _matches_split(p.relative_to(root), split)]
    if not files:
        raise DataSourceError(
            f"directory {root} holds no {'/'.join(LOCAL_EXTENSIONS)} file"
            + (f" for split {split!r}" if split else "")
        )
    return [row for f in files for row in check_rows(_read_file(f), str(f), required)]


def _walk_files(root: Path) -> list[Path]:
    """Every regular file below ``root``, sorted; an unreadable sub-folder is an error (rglob
    skips it silently, which would drop its files)."""

    def refuse(err: OSError) -> None:
        where = err.filename or root
        raise DataSourceError(f"{where}: cannot list the folder: {err.strerror or err}")

    found = []
    for folder, _dirs, names in os.walk(root, onerror=refuse):
        found += [Path(folder, n) for n in names if Path(folder, n).is_file()]
    return sorted(found)


def check_rows(
    rows: list[dict[str, Any]], where: str, required: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """``rows`` unchanged if they can be a source at all, else a :class:`DataSourceError`.

    A source with no row, or in which no row has every ``required`` top-level field (the file is
    in another schema, e.g. a WebGPT file given as HH-RLHF), is an error naming ``where`` and the
    missing fields, rather than a run that drops every row and stops later on "no pair left".
    Rows lacking only some fields are left to the converters, which count them as drops.
    """
    if not rows:
        raise DataSourceError(f"{where}: no rows (the file is empty)")
    top = list(dict.fromkeys(name.split(".")[0] for name in required))
    if top and not any(all(key in row for key in top) for row in rows):
        absent = [key for key in top if not any(key in row for row in rows)] or top
        present = ", ".join(sorted(rows[0])[:12]) or "none"
        raise DataSourceError(
            f"{where}: no row has the fields this source kind reads ({', '.join(top)}); "
            f"missing from every row: {', '.join(absent)}; the first row has: {present}. "
            "Is the source kind right for this file?"
        )
    return rows


def _matches_split(relative: Path, split: str) -> bool:
    return any(
        part == split or part.startswith((f"{split}.", f"{split}-")) for part in relative.parts
    )


def _hub_failure(name: str, split: str, err: Exception, parquet: bool, local_hint: str) -> str:
    reason = str(err).rstrip(".")
    script_note = (
        f" {name} is a script dataset on the Hub, which datasets>=4 refuses to run, so its "
        "Parquet conversion (revision refs/convert/parquet) was tried; you can download those "
        "Parquet files and pass them as a local file."
        if parquet
        else ""
    )
    return (
        f"could not load {name!r} (split {split!r}) from the Hugging Face Hub: "
        f"{type(err).__name__}: {reason}.{script_note} Offline, pass a local file in the "
        f"original schema (.jsonl, .jsonl.gz, .json or .parquet): {local_hint}"
    )


def load_hub_rows(
    name: str,
    *,
    split: str,
    local_hint: str,
    config: str | None = None,
    data_dir: str | None = None,
    parquet_export: bool = False,
    required: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Rows of a Hub dataset via ``datasets.load_dataset``.

    Args:
        name: Hub repository, e.g. ``"Anthropic/hh-rlhf"``.
        split: split name.
        local_hint: how to pass a local file for this source (quoted in the error).
        config: dataset configuration (e.g. ``"comparisons"``).
        data_dir: sub-folder of the repository (``"helpful-base"``).
        parquet_export: read the Hub's automatic Parquet conversion
            (``hf://datasets/<name>@~parquet/<config or default>/<split>/*.parquet``) instead of the
            repository itself: required for script datasets under ``datasets`` ≥ 4.
        required: fields the source kind reads (see :func:`check_rows`).

    Raises:
        DataSourceError: ``datasets`` missing or the load failed (e.g. offline); the message names
            the local-file option.
    """
    try:
        import datasets
    except ImportError as err:
        raise DataSourceError(
            f"loading {name!r} from the Hub needs the 'datasets' package "
            '(pip install datasets, or from a mooptim checkout: pip install -e ".[rm]"); '
            f"or pass a local file: {local_hint}"
        ) from err
    try:
        if parquet_export:
            pattern = f"hf://datasets/{name}@~parquet/{config or 'default'}/{split}/*.parquet"
            ds = datasets.load_dataset("parquet", data_files={split: pattern}, split=split)
        else:
            ds = datasets.load_dataset(name, name=config, data_dir=data_dir, split=split)
    except Exception as err:
        raise DataSourceError(_hub_failure(name, split, err, parquet_export, local_hint)) from err
    return check_rows(
        [dict(row) for row in ds], f"Hub dataset {name!r} (split {split!r})", required
    )


def read_rows(
    path_or_name: str | os.PathLike[str],
    *,
    split: str,
    local_hint: str,
    hub_name: str,
    required: Sequence[str] = (),
    **hub_options: Any,
) -> list[dict[str, Any]]:
    """Local rows if ``path_or_name`` is a local path, else Hub rows.

    ``hub_options`` (``config``, ``data_dir``, ``parquet_export``) and the other arguments are
    those of :func:`load_hub_rows` / :func:`read_local_rows`.
    """
    if is_local_path(path_or_name):
        return read_local_rows(path_or_name, split, required)
    name = str(path_or_name) or hub_name
    return load_hub_rows(name, split=split, local_hint=local_hint, required=required, **hub_options)
