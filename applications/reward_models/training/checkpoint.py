"""Atomic training checkpoints: write to a temporary directory, fsync, then rename into place.

A checkpoint directory ``<run_dir>/checkpoint-<step>`` holds

* the model (``save_pretrained``: ``config.json`` + ``model.safetensors``) and the tokenizer, so
  any checkpoint is directly loadable by ``AutoModelForSequenceClassification.from_pretrained``;
* ``trainer_state.pt``: step, optimizer, scheduler, sampler and weighting states, the log tail;
* ``rng_state_<rank>.pt``: Python, NumPy and torch (CPU and accelerator) RNG states of each rank.

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
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from applications.reward_models.files import atomic_directory

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
    """Python, NumPy and torch RNG states of this process."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 - the global generator libraries use
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state` output."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
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
        shutil.rmtree(shared_tmp, ignore_errors=True)
    barrier()


def load_trainer_state(path: str, rank: int = 0) -> dict[str, Any]:
    """Read ``trainer_state.pt`` and restore this rank's RNG state from a checkpoint directory.

    Raises:
        ValueError: the directory is not a complete checkpoint.
    """
    state_file = os.path.join(path, TRAINER_STATE)
    if not os.path.isfile(state_file):
        raise ValueError(f"{path!r} is not a complete checkpoint (no {TRAINER_STATE})")
    state = torch.load(state_file, map_location="cpu", weights_only=False)
    rng_file = os.path.join(path, f"rng_state_{rank}.pt")
    if os.path.isfile(rng_file):
        set_rng_state(torch.load(rng_file, map_location="cpu", weights_only=False))
    return state


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
