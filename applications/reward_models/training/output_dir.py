"""Claiming a training run's ``output_dir``: one run at a time, and never on top of an earlier run.

:func:`claim_output_dir` (the main process, before anything is loaded or written):

1. takes an exclusive lock: ``<output_dir>/.lock`` held with ``fcntl.flock`` for the whole run and
   holding the owner's pid, host and start time. A second run on the same folder fails at once
   with :class:`OutputDirInUseError` naming the first. The kernel drops the lock when its process
   dies (even by SIGKILL), so a lock file left by a dead run is stale and is simply taken over;
2. refuses a fresh run (no ``--resume``) into a folder that holds an earlier run's files (its
   ``config.yaml``, ``metrics.json``, a scheme folder with checkpoints, a log or a ``final/``)
   with :class:`OutputDirNotEmptyError`: resuming it would mix the two runs (the old run's
   ``metrics.json`` and checkpoints read as the new run's). The message suggests ``--resume`` or
   ``--overwrite_output_dir``: the option of transformers 4's ``TrainingArguments`` (dropped,
   with its "output directory already exists and is not empty" check, in transformers 5);
3. with ``overwrite_output_dir``, clears the earlier run: every entry but the lock is renamed into
   ``<output_dir>/.overwritten-<pid>`` (one atomic rename each, so no old file is ever mixed with
   the new run's), which is then deleted. A crash part-way leaves only that folder, deleted by the
   next claim.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass
from typing import IO

__all__ = [
    "LOCK_NAME",
    "OutputDirError",
    "OutputDirInUseError",
    "OutputDirLock",
    "OutputDirNotEmptyError",
    "check_output_dir",
    "claim_output_dir",
    "earlier_run_files",
    "lock_output_dir",
]

LOCK_NAME = ".lock"
_TRASH_PREFIX = ".overwritten-"
_RUN_FILES = ("config.yaml", "metrics.json", "drops.json", "table.txt")
_SCHEME_FILES = ("metrics.json", "log.jsonl", "final")
# As .checkpoint.CHECKPOINT_PATTERN; not imported: this module is read at argument-check time,
# before torch.
_CHECKPOINT = re.compile(r"^checkpoint-\d+")


class OutputDirError(ValueError):
    """``output_dir`` cannot be used by this run."""


class OutputDirInUseError(OutputDirError):
    """Another live run holds ``output_dir``'s lock."""


class OutputDirNotEmptyError(OutputDirError):
    """A fresh run was pointed at an earlier run's folder."""


def earlier_run_files(output_dir: str) -> list[str]:
    """Relative paths of the files in ``output_dir`` that an earlier training run left."""
    if not os.path.isdir(output_dir):
        return []
    found = [name for name in _RUN_FILES if os.path.exists(os.path.join(output_dir, name))]
    for entry in sorted(os.listdir(output_dir)):
        folder = os.path.join(output_dir, entry)
        if entry.startswith(".") or not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name in _SCHEME_FILES or _CHECKPOINT.match(name):
                found.append(f"{entry}/{name}")
    return found


@dataclass
class OutputDirLock:
    """A held lock on ``output_dir`` (released by :meth:`release` or when the process ends)."""

    path: str
    handle: IO[str] | None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None

    def __enter__(self) -> OutputDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _owner(handle: IO[str]) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except ValueError:
        return "an unknown process"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("started", 0)))
    return f"pid {info.get('pid')} on host {info.get('host')!r}, started {started}"


def lock_output_dir(output_dir: str) -> OutputDirLock:
    """Take ``<output_dir>/.lock`` exclusively (created if needed) and write our pid/host in it.

    Raises:
        OutputDirInUseError: a live process holds it (the message names its pid and host).
        OutputDirError: ``output_dir`` is a file or cannot be created.
    """
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise OutputDirError(f"--output_dir {output_dir!r} is a file, not a folder")
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, LOCK_NAME)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = _owner(handle)
        handle.close()
        raise OutputDirInUseError(
            f"--output_dir {output_dir!r} is in use by another run ({owner}); wait for it to "
            f"finish or use another output_dir (lock file {path})"
        ) from None
    # Held: any pid in the file is a stale run's (the kernel released its lock when it died).
    handle.seek(0)
    handle.truncate()
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    handle.write(json.dumps(info))
    handle.flush()
    return OutputDirLock(path, handle)


def _move_aside(output_dir: str) -> None:
    trash = os.path.join(output_dir, f"{_TRASH_PREFIX}{os.getpid()}")
    os.makedirs(trash, exist_ok=True)
    for name in os.listdir(output_dir):
        if name != LOCK_NAME and not name.startswith(_TRASH_PREFIX):
            os.rename(os.path.join(output_dir, name), os.path.join(trash, name))
    _remove_trash(output_dir)


def _remove_trash(output_dir: str) -> None:
    for name in os.listdir(output_dir):
        if name.startswith(_TRASH_PREFIX):
            shutil.rmtree(os.path.join(output_dir, name), ignore_errors=True)


def check_output_dir(output_dir: str, *, resume: bool, overwrite: bool) -> None:
    """The argument-time checks of ``output_dir`` (cheap; nothing is created or locked).

    Raises:
        OutputDirError: ``output_dir`` exists and is not a folder, its parent is a file, or
            both ``resume`` and ``overwrite`` are set.
    """
    if resume and overwrite:
        raise OutputDirError(
            "--resume continues the run in output_dir and --overwrite_output_dir deletes it: "
            "give one of them"
        )
    path = os.path.abspath(output_dir)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        what = "is a file" if path == os.path.abspath(output_dir) else f"is inside the file {path}"
        raise OutputDirError(f"--output_dir {output_dir!r} {what}, not a folder")


def claim_output_dir(
    output_dir: str, *, resume: bool, overwrite: bool, main: bool = True
) -> OutputDirLock:
    """Lock ``output_dir`` and make sure this run does not build on another run's files.

    Args:
        output_dir: the run folder.
        resume: ``--resume``: an earlier run's files are this run's to continue.
        overwrite: ``--overwrite_output_dir``: move an earlier run's files aside and delete them.
        main: whether this is the main process; the other ranks of a distributed run get a
            lock that holds nothing (they wait for the main process at the run's first barrier).

    Raises:
        OutputDirError: both ``resume`` and ``overwrite``; ``output_dir`` is a file.
        OutputDirInUseError: another run holds the folder.
        OutputDirNotEmptyError: a fresh run into a folder holding an earlier run (module doc).
    """
    check_output_dir(output_dir, resume=resume, overwrite=overwrite)
    if not main:
        return OutputDirLock(os.path.join(output_dir, LOCK_NAME), None)
    lock = lock_output_dir(output_dir)
    try:
        _remove_trash(output_dir)
        earlier = earlier_run_files(output_dir)
        if earlier and overwrite:
            _move_aside(output_dir)
        elif earlier and not resume:
            shown = ", ".join(earlier[:5]) + (", ..." if len(earlier) > 5 else "")
            raise OutputDirNotEmptyError(
                f"--output_dir {output_dir!r} already holds an earlier run ({shown}); use "
                "--resume to continue it, --overwrite_output_dir to delete it and start over, "
                "or another output_dir"
            )
    except BaseException:
        lock.release()
        raise
    return lock
