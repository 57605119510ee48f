"""Resuming is bit-identical wherever the run stopped, and after skipping a damaged checkpoint.

The RNG states are now stored as tensors and plain lists (``weights_only=True`` loading) and each
checkpoint is verified against its sha256 manifest: neither may change what a resumed run
computes. A run stopped after every step 1..8 (a checkpoint every step) and resumed must end with
the uninterrupted run's weights; so must a run whose newest checkpoint has a flipped bit (it
resumes from the one before, with a warning naming the damaged one).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.splits import load_source_data
from applications.reward_models.modeling.reward_model import load_tokenizer
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.config import TrainConfig
from applications.reward_models.training.trainer import RewardModelTrainer

MAX_STEPS = 9


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    model = save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")
    config = TrainConfig(**{
        "model": model, "output_dir": "unused", "max_length": 64, "max_steps": MAX_STEPS,
        "sources": [SourceSpec("shared"), SourceSpec("lists")], "train_pairs_per_source": 5,
        "test_pairs_per_source": 2, "pairs_per_source": 2, "save_steps": 1,
        "save_total_limit": None, "progress_bar": False,
    }).validate()  # fmt: skip
    return config, load_source_data(config, load_tokenizer(model))


def _train(config: TrainConfig, data, out: Path, *, resume: bool, stop_after=None) -> None:
    config.output_dir, config.resume = str(out), resume
    RewardModelTrainer(config, "more", data).train(stop_after=stop_after)


def _final(out: Path) -> dict[str, torch.Tensor]:
    return load_file(str(out / "more" / "final" / "model.safetensors"))


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def uninterrupted(setup, tmp_path_factory) -> dict[str, torch.Tensor]:
    config, data = setup
    out = tmp_path_factory.mktemp("full")
    _train(config, data, out, resume=False)
    return _final(out)


@pytest.mark.parametrize("stop", range(1, MAX_STEPS))
def test_stop_anywhere_then_resume_is_bit_identical(setup, uninterrupted, tmp_path, stop) -> None:
    config, data = setup
    _train(config, data, tmp_path, resume=False, stop_after=stop)
    _train(config, data, tmp_path, resume=True)
    _assert_same(_final(tmp_path), uninterrupted)


def test_a_damaged_newest_checkpoint_is_skipped_and_the_result_unchanged(
    setup, uninterrupted, tmp_path
) -> None:
    config, data = setup
    _train(config, data, tmp_path, resume=False, stop_after=5)
    newest = tmp_path / "more" / "checkpoint-0000005" / "model.safetensors"
    raw = bytearray(newest.read_bytes())
    raw[-10] ^= 0x01  # one bit of a weight
    newest.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="skipping damaged checkpoint .*checkpoint-0000005"):
        _train(config, data, tmp_path, resume=True)
    _assert_same(_final(tmp_path), uninterrupted)
