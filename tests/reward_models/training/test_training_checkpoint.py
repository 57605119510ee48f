"""Atomic checkpoints: complete or absent, never partial; RNG round trip."""

from __future__ import annotations

import os
import random

import pytest
import torch

from applications.reward_models.training.checkpoint import (
    atomic_directory,
    checkpoint_dir,
    latest_checkpoint,
    list_checkpoints,
    load_trainer_state,
    remove_stale,
    save_checkpoint,
)


def _write(directory: str) -> None:
    with open(os.path.join(directory, "model.bin"), "wb") as f:
        f.write(b"weights")


def test_failure_leaves_no_partial_directory(tmp_path):
    run = str(tmp_path)
    target = checkpoint_dir(run, 3)

    def broken(directory: str) -> None:
        _write(directory)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint(target, write_model=broken, trainer_state={"step": 3})
    assert os.listdir(run) == []
    assert latest_checkpoint(run) is None


def test_failure_keeps_previous_version(tmp_path):
    target = str(tmp_path / "final")
    with atomic_directory(target) as tmp:
        _write(tmp)
    with pytest.raises(KeyError), atomic_directory(target) as tmp:
        open(os.path.join(tmp, "half"), "w").close()
        raise KeyError("boom")
    assert sorted(os.listdir(target)) == ["model.bin"]
    assert sorted(os.listdir(tmp_path)) == ["final"]
    with atomic_directory(target) as tmp:  # replacing an existing directory works
        open(os.path.join(tmp, "new"), "w").close()
    assert sorted(os.listdir(target)) == ["new"]


def test_save_load_latest_and_rotation(tmp_path):
    run = str(tmp_path)
    for step in (2, 4, 10):
        save_checkpoint(checkpoint_dir(run, step), write_model=_write, trainer_state={"step": step})
    os.makedirs(os.path.join(run, "checkpoint-0000012.tmp-99"))  # a crashed save
    os.makedirs(os.path.join(run, "checkpoint-0000011"))  # incomplete: no trainer state
    assert [s for s, _ in list_checkpoints(run)] == [2, 4, 10]
    assert latest_checkpoint(run) == checkpoint_dir(run, 10)
    remove_stale(run, keep=2)
    assert [s for s, _ in list_checkpoints(run)] == [4, 10]
    assert not any(".tmp-" in n for n in os.listdir(run))


def test_rng_state_round_trip(tmp_path):
    path = str(tmp_path / "ckpt")
    random.seed(1)
    torch.manual_seed(1)
    save_checkpoint(path, write_model=_write, trainer_state={"step": 1, "x": torch.ones(2)})
    expected = (random.random(), torch.rand(3))
    random.seed(2)
    torch.manual_seed(2)
    state = load_trainer_state(path)
    assert state["step"] == 1 and torch.equal(state["x"], torch.ones(2))
    assert (random.random(), torch.rand(3))[0] == expected[0]
    with pytest.raises(ValueError, match="not a complete checkpoint"):
        load_trainer_state(str(tmp_path))
