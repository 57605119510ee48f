"""Names that become path components of an RJS run, and paths kept inside ``output_dir``.

Reward-model names (``--rms NAME=PATH``, ``--schemes``) name files and folders below the run
directory: ``scores/<name>.jsonl``, ``selected/<name>.jsonl``, ``policies/<name>/`` (replaced
atomically by the sft stage), ``eval/judge/<a>-vs-<b>.json``. :func:`check_name` refuses a name
that could leave that directory or name no file (``..``, a path separator, an absolute path, an
empty name, control characters) before any path is built, and :func:`contained_path` refuses
any path below ``output_dir`` that resolves outside it (through ``..`` or a symbolic link), so an
atomic directory replacement can never hit a folder outside the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PathOutsideRunError", "check_name", "check_names", "contained_path"]


class PathOutsideRunError(ValueError):
    """A path built below ``output_dir`` resolves outside it."""


def check_name(name: str, where: str) -> str:
    """``name`` if it is safe as one path component, else a ``ValueError`` naming it and ``where``.

    Refused: empty or blank, ``.`` / ``..``, a ``/`` or ``\\`` (or the platform's separators),
    an absolute path, control characters (NUL, newline, ...).
    """
    if not isinstance(name, str) or not name.strip():
        why = "is empty"
    elif name in (".", ".."):
        why = "is a relative directory reference"
    elif any(sep and sep in name for sep in ("/", "\\", os.sep, os.altsep)):
        why = "contains a path separator"
    elif os.path.isabs(name):
        why = "is an absolute path"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        why = "contains a control character"
    else:
        return name
    raise ValueError(
        f"{where}: model name {name!r} {why}; names become file names under output_dir, so use "
        "letters, digits, '-', '_' or '.'"
    )


def check_names(names: Iterable[str], where: str) -> None:
    """:func:`check_name` on each of ``names``."""
    for name in names:
        check_name(name, where)


def contained_path(root: str | os.PathLike[str], *parts: str) -> Path:
    """``root / parts...``, refused unless it resolves inside ``root`` (symbolic links followed).

    Raises:
        PathOutsideRunError: the path leaves ``root``.
    """
    path = Path(root).joinpath(*parts)
    base = Path(root).resolve()
    resolved = path.resolve()
    if resolved != base and base not in resolved.parents:
        raise PathOutsideRunError(
            f"{path} resolves to {resolved}, outside the run directory {base}; refusing to "
            "write there"
        )
    return path
