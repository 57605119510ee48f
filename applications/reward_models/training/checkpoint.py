"""Atomic training checkpoints: write to a temporary directory, fsync, then rename into place.

A checkpoint directory ``<run_dir>/checkpoint-<step>`` holds

* the model (``save_pretrained``: ``config.json`` + ``model.safetensors``) and the tokenizer, so
  any checkpoint is directly loadable by ``AutoModelForSequenceClassification.from_pretrained``;
* ``trainer_state.pt``: step, optimizer, scheduler, sampler and weighting states, the log tail;
* ``rng_state_<rank>.pt``: Python, NumPy and torch (CPU and accelerator) RNG states of each rank,
  as tensors and plain lists (so they load with ``torch.load(weights_only=True)``);
* ``manifest.json``: size and sha256 of every other file (:mod:`.checkpoint_integrity`).

Reading never unpickles arbitrary objects (``weights_only=True``), and a checkpoint is verified
against its manifest before anything is read: :func:`load_latest_intact` skips a truncated or
altered one, with a warning naming it, and resumes from the previous intact checkpoint.

Single files that a resumed run reads (``config.yaml``, a scheme's ``metrics.json``) are written
with :func:`~applications.reward_models.files.write_text_atomic`.

A crash while writing leaves only ``*.tmp-*`` directories, which are ignored (and removed by the
next save); a directory named ``checkpoint-<step>`` is always complete.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from applications.reward_models.files import atomic_directory
from applications.reward_models.training.checkpoint_integrity import (
    CorruptCheckpointError,
    safe_torch_load,
    verify,
    write_manifest,
)

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
TRAINER_STATE = "trainer_state.pt"


def checkpoint_dir(run_dir: str, step: int) -> str:
    """``<run_dir>/checkpoint-<step>`` (zero-padded so names sort by step)."""
    return os.path.join(run_dir, f"checkpoint-{step:07d}")


def list_checkpoints(run_dir: str) -> list[tuple[int, str]]:
    """Complete checkpoints in ``run_dir`` as ``(step, path)``, oldest first."""
    if not os.path.isdir(run_dir):
        return []
    found = []
    for name in os.listdir(run_dir):
        match = CHECKPOINT_PATTERN.match(name)
        path = os.path.join(run_dir, name)
        if match and os.path.isfile(os.path.join(path, TRAINER_STATE)):
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(run_dir: str) -> str | None:
    """Path of the newest complete checkpoint in ``run_dir``, or ``None``."""
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def remove_stale(run_dir: str, keep: int | None) -> None:
    """Delete leftover ``*.tmp-*`` directories and all but the newest ``keep`` checkpoints."""
    if not os.path.isdir(run_dir):
        return
    for name in os.listdir(run_dir):
        if ".tmp-" in name or ".old-" in name:
            shutil.rmtree(os.path.join(run_dir, name), ignore_errors=True)
    if keep is not None and keep > 0:
        for _step, path in list_checkpoints(run_dir)[:-keep]:
            shutil.rmtree(path, ignore_errors=True)


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states of this process, as tensors and plain data."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 - the global one
    kind, pos, has_gauss, cached = str(kind), int(pos), int(has_gauss), float(cached)
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state` output."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: str,
    *,
    write_model: Callable[[str], None],
    trainer_state: dict[str, Any],
    rank: int = 0,
    world_size: int = 1,
    barrier: Callable[[], None] = lambda: None,
) -> None:
    """Write a checkpoint atomically (collective: every rank calls it with the same ``path``).

    Rank 0 creates the temporary directory and writes the model and ``trainer_state``; every rank
    writes its RNG state; rank 0 then fsyncs and renames. ``barrier`` synchronises the ranks.
    """
    tmp_final = os.path.abspath(path)
    if world_size == 1:
        with atomic_directory(tmp_final) as tmp:
            write_model(tmp)
            torch.save(rng_state(), os.path.join(tmp, "rng_state_0.pt"))
            torch.save(trainer_state, os.path.join(tmp, TRAINER_STATE))
            write_manifest(tmp)
        return
    shared_tmp = f"{tmp_final}.tmp-shared"
    if rank == 0:
        shutil.rmtree(shared_tmp, ignore_errors=True)
        os.makedirs(shared_tmp)
    barrier()
    torch.save(rng_state(), os.path.join(shared_tmp, f"rng_state_{rank}.pt"))
    barrier()
    if rank == 0:
        with atomic_directory(tmp_final) as tmp:
            for name in os.listdir(shared_tmp):
                os.replace(os.path.join(shared_tmp, name), os.path.join(tmp, name))
            write_model(tmp)
            torch.save(trainer_state, os.path.join(tmp, TRAINER_STATE))
            write_manifest(tmp)
        shutil.rmtree(shared_tmp, ignore_errors=True)
    barrier()


def load_trainer_state(path: str, rank: int = 0) -> dict[str, Any]:
    """Verify checkpoint ``path``, read ``trainer_state.pt`` and restore this rank's RNG state.

    Raises:
        ValueError: the directory is not a complete checkpoint.
        CorruptCheckpointError: a file is missing, truncated or altered (manifest check).
        UnsafeCheckpointError: a file holds objects other than tensors and plain data.
    """
    state_file = os.path.join(path, TRAINER_STATE)
    if not os.path.isfile(state_file):
        raise ValueError(f"{path!r} is not a complete checkpoint (no {TRAINER_STATE})")
    verify(path)
    state = safe_torch_load(state_file)
    if not isinstance(state, dict) or "step" not in state:
        raise CorruptCheckpointError(f"{state_file}: not a trainer state (no 'step')")
    rng_file = os.path.join(path, f"rng_state_{rank}.pt")
    if os.path.isfile(rng_file):
        set_rng_state(safe_torch_load(rng_file))
    return state


def load_latest_intact(
    run_dir: str, load: Callable[[str], dict[str, Any]]
) -> tuple[str, dict[str, Any]] | None:
    """``(path, load(path))`` of the newest checkpoint of ``run_dir`` that loads, else ``None``.

    A checkpoint that fails its manifest check or does not load (:class:`CorruptCheckpointError`:
    truncated, bit-flipped, half-deleted) is skipped with a warning naming it, and the previous
    one is tried. An :class:`UnsafeCheckpointError` is not skipped: it propagates.

    Raises:
        CorruptCheckpointError: checkpoints exist but none is intact (each one is named).
    """
    found = list_checkpoints(run_dir)
    problems: list[str] = []
    for _step, path in reversed(found):
        try:
            return path, load(path)
        except CorruptCheckpointError as err:
            problems.append(str(err))
            warnings.warn(
                f"skipping damaged checkpoint {path}: {err}; trying the previous one",
                RuntimeWarning,
                stacklevel=2,
            )
    if problems:
        raise CorruptCheckpointError(
            f"no intact checkpoint in {run_dir} to resume from: " + "; ".join(problems)
        )
    return None


def load_model_weights(path: str, model: nn.Module) -> None:
    """Load the ``*.safetensors`` of checkpoint ``path`` (one file or shards) into ``model``.

    Raises:
        ValueError: no weights in ``path``, or their keys do not match ``model``'s.
    """
    weights: dict[str, torch.Tensor] = {}
    files = sorted(n for n in os.listdir(path) if n.endswith(".safetensors"))
    if not files:
        raise ValueError(f"{path}: no *.safetensors weights")
    for name in files:
        weights.update(load_file(os.path.join(path, name)))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or missing:
        raise ValueError(f"{path}: weights do not match the model: {missing or unexpected}")
