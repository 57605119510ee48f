"""Checkpoints are verified before they are read (issue 22).

* ``torch.load(weights_only=True)`` everywhere: a crafted ``trainer_state.pt`` / ``rng_state_0.pt``
  whose unpickling would run code is refused, and the code does not run (a marker file is not
  created);
* a sha256 manifest is written at save time; a truncated or bit-flipped file is detected, the
  checkpoint is skipped with a warning naming it, and the previous intact one is used; when no
  checkpoint is intact the resume is refused.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from applications.reward_models.training.checkpoint import (
    checkpoint_dir,
    load_latest_intact,
    load_trainer_state,
    rng_state,
    save_checkpoint,
)
from applications.reward_models.training.checkpoint_integrity import (
    MANIFEST,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    verify,
    write_manifest,
)

MARKER = "pwned.txt"


class _WritesMarker:
    """Unpickling this calls ``open(MARKER, "w")``: what a crafted checkpoint would do."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __reduce__(self):
        return (open, (self.where, "w"))


def _write(directory: str) -> None:
    Path(directory, "model.safetensors").write_bytes(bytes(range(256)) * 64)


def _save(run: str, step: int) -> str:
    path = checkpoint_dir(run, step)
    save_checkpoint(path, write_model=_write, trainer_state={"step": step, "x": torch.ones(3)})
    return path


@pytest.mark.parametrize("victim", ["trainer_state.pt", "rng_state_0.pt"])
def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path: Path, victim: str) -> None:
    path = _save(str(tmp_path / "run"), 2)
    marker = tmp_path / MARKER
    payload = {"step": 2, "evil": _WritesMarker(str(marker))}
    torch.save(payload, os.path.join(path, victim))
    write_manifest(path)  # the attacker also fixes the checksums
    with pytest.raises(UnsafeCheckpointError, match=victim) as err:
        load_trainer_state(path)
    assert "could run code" in str(err.value)
    assert not marker.exists()
    # Not silently skipped either: an unsafe checkpoint stops the resume.
    with pytest.raises(UnsafeCheckpointError):
        load_latest_intact(str(tmp_path / "run"), load_trainer_state)
    assert not marker.exists()


def test_rng_state_is_plain_data_and_round_trips(tmp_path: Path) -> None:
    random.seed(5)
    np.random.seed(5)  # noqa: NPY002 - the global generator is what is saved
    torch.manual_seed(5)
    path = _save(str(tmp_path), 1)
    loaded = torch.load(os.path.join(path, "rng_state_0.pt"), weights_only=True)
    assert set(loaded) >= {"python", "numpy", "torch"}
    expected = (random.random(), float(np.random.rand()), float(torch.rand(())))  # noqa: NPY002
    random.seed(9)
    np.random.seed(9)  # noqa: NPY002
    torch.manual_seed(9)
    load_trainer_state(path)
    assert (random.random(), float(np.random.rand()), float(torch.rand(()))) == expected  # noqa: NPY002
    assert isinstance(rng_state()["numpy"][1], torch.Tensor)


def test_manifest_lists_every_file_with_its_sha256(tmp_path: Path) -> None:
    path = _save(str(tmp_path), 3)
    files = json.loads(Path(path, MANIFEST).read_text())["files"]
    assert set(files) == {"model.safetensors", "trainer_state.pt", "rng_state_0.pt"}
    assert all(len(entry["sha256"]) == 64 for entry in files.values())
    verify(path)


def _flip_one_bit(path: Path, offset: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: _flip_one_bit(p / "model.safetensors"), "sha256 differs"),
        (lambda p: (p / "trainer_state.pt").write_bytes(b"PK\x03"), "truncated"),
        (lambda p: (p / "rng_state_0.pt").unlink(), "missing"),
        (lambda p: (p / MANIFEST).unlink(), "no manifest.json"),
        (lambda p: (p / "extra.bin").write_bytes(b"x"), "not in manifest.json"),
    ],
    ids=["bit flip in weights", "truncated state", "missing rng", "no manifest", "extra file"],
)
def test_damaged_checkpoint_is_skipped_for_the_previous_one(
    tmp_path: Path, damage, expected: str
) -> None:
    run = str(tmp_path)
    _save(run, 2)
    newest = Path(_save(run, 4))
    damage(newest)
    with pytest.raises(CorruptCheckpointError, match=expected):
        load_trainer_state(str(newest))
    with pytest.warns(RuntimeWarning, match=f"skipping damaged checkpoint {newest}"):
        path, state = load_latest_intact(run, load_trainer_state)
    assert path == checkpoint_dir(run, 2) and state["step"] == 2


def test_no_intact_checkpoint_is_refused_naming_each(tmp_path: Path) -> None:
    run = str(tmp_path)
    for step in (2, 4):
        _flip_one_bit(Path(_save(run, step)) / "model.safetensors")
    with pytest.warns(RuntimeWarning), pytest.raises(CorruptCheckpointError) as err:
        load_latest_intact(run, load_trainer_state)
    assert "no intact checkpoint" in str(err.value)
    assert "checkpoint-0000002" in str(err.value) and "checkpoint-0000004" in str(err.value)
    assert load_latest_intact(str(tmp_path / "empty"), load_trainer_state) is None
