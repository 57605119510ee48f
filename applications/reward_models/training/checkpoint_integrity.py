"""Checkpoint integrity: a sha256 manifest written at save time and checked on resume, and
``torch.load`` restricted to tensors and plain data.

``manifest.json`` (written last into a checkpoint's temporary directory, so it is inside the atomic
rename) maps every file of the checkpoint (relative path) to its size and sha256. :func:`verify`
recomputes them: a truncated, bit-flipped, missing or extra weights/state file is a
:class:`CorruptCheckpointError` naming the file, and the resume falls back to the previous intact
checkpoint (:func:`.checkpoint.load_latest_intact`).

:func:`safe_torch_load` is ``torch.load(weights_only=True)``: its unpickler builds only tensors and
plain Python containers and never imports or calls anything a file names, so a crafted
``trainer_state.pt`` that would run code is an :class:`UnsafeCheckpointError` instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from typing import Any

import torch

from applications.reward_models.files import write_text_atomic

__all__ = [
    "MANIFEST",
    "CorruptCheckpointError",
    "UnsafeCheckpointError",
    "file_digests",
    "safe_torch_load",
    "verify",
    "write_manifest",
]

MANIFEST = "manifest.json"
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
_CHUNK = 1 << 20


class CorruptCheckpointError(ValueError):
    """A checkpoint file is missing, truncated or altered (its sha256 differs from the manifest)."""


class UnsafeCheckpointError(ValueError):
    """A checkpoint file holds objects other than tensors and plain data (it could run code)."""


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(directory: str) -> dict[str, dict[str, Any]]:
    """``{relative path: {"size", "sha256"}}`` of every file of ``directory`` but the manifest."""
    out: dict[str, dict[str, Any]] = {}
    for name in _file_names(directory):
        path = os.path.join(directory, name)
        out[name] = {"size": os.path.getsize(path), "sha256": _sha256(path)}
    return out


def write_manifest(directory: str) -> None:
    """Write ``manifest.json`` with the digests of every other file of ``directory``."""
    text = json.dumps({"version": 1, "files": file_digests(directory)}, indent=1)
    write_text_atomic(os.path.join(directory, MANIFEST), text + "\n")


def _read_manifest(directory: str) -> dict[str, dict[str, Any]]:
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, encoding="utf-8") as handle:
            files = json.load(handle)["files"]
    except FileNotFoundError:
        raise CorruptCheckpointError(
            f"{directory}: no {MANIFEST} (checksums), so its files cannot be verified"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorruptCheckpointError(f"{path}: unreadable manifest ({err})") from None
    if not isinstance(files, dict):
        raise CorruptCheckpointError(f"{path}: unreadable manifest (no file table)")
    return files


def verify(directory: str) -> None:
    """Check every file of checkpoint ``directory`` against its ``manifest.json``.

    Raises:
        CorruptCheckpointError: no or unreadable manifest; a listed file missing, of another
            size or another sha256 (truncated or altered); a file the manifest does not list.
    """
    expected = _read_manifest(directory)
    actual = {name: os.path.join(directory, name) for name in _file_names(directory)}
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            raise CorruptCheckpointError(f"{os.path.join(directory, name)}: missing")
        if name not in expected:
            raise CorruptCheckpointError(f"{actual[name]}: not in {MANIFEST} (added later)")
        entry, path = expected[name], actual[name]
        if os.path.getsize(path) != entry.get("size"):
            size = os.path.getsize(path)
            raise CorruptCheckpointError(
                f"{path}: {size} bytes, {entry.get('size')} when saved (truncated?)"
            )
        if _sha256(path) != entry.get("sha256"):
            raise CorruptCheckpointError(f"{path}: sha256 differs from {MANIFEST} (file altered)")


def _file_names(directory: str) -> list[str]:
    names = []
    for root, _dirs, files in os.walk(directory):
        names += [os.path.relpath(os.path.join(root, n), directory) for n in files]
    return sorted(n for n in names if n != MANIFEST)


def safe_torch_load(path: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with one-line errors.

    Raises:
        UnsafeCheckpointError: the file holds a pickled object other than tensors / plain data.
        CorruptCheckpointError: the file is not a readable torch file (truncated, garbage).
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = _GLOBAL.search(str(err))
        what = f"it names {found.group(1)}" if found else "it holds pickled objects"
        raise UnsafeCheckpointError(
            f"{path}: refusing to load: {what}, not only tensors and plain data, and unpickling "
            "it could run code; resume only checkpoints this program wrote"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CorruptCheckpointError(f"{path}: not a readable torch file ({first})") from None
