"""The training CLI as real processes: two torchrun ranks with ragged epochs, SIGKILL and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from applications.reward_models.data.canonical import save_pairs
from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.run import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")


@pytest.fixture(scope="module")
def odd_pairs(tmp_path_factory) -> str:
    """A ``pairs`` source of 2 training pairs."""
    directory = tmp_path_factory.mktemp("odd")
    sim = PreferenceSimulator(0, ["verbose"])
    save_pairs(sim.pairs("verbose", 2), directory / "train.jsonl")
    save_pairs(sim.pairs("verbose", 2, split="test"), directory / "test.jsonl")
    return str(directory)


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    env.pop("WORLD_SIZE", None)
    return env


def _args(model: str, out: str, *extra: str) -> list[str]:
    return [
        "--model", model, "--output_dir", out, "--progress_bar", "false", "--max_length", "128",
        "--pairs_per_source", "2", "--test_pairs_per_source", "2",
        *extra,
    ]  # fmt: skip


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "final" / "model.safetensors"))


@pytest.mark.distributed
def test_two_torchrun_ranks_with_ragged_epochs_match_one_process(tmp_path, tiny_model, odd_pairs):
    # odd = 2 and shared = 11 pairs, m = 2: MultiTask's 13 pairs make batches of 4 with a last
    # one of 1 pair (epochs of 4 steps; a rank without pairs hung or failed before the fix),
    # MORE's 11 per source a ragged 6th batch; 13 steps cross two or more epoch boundaries of each.
    # Adam's ε = lr = 1e-2 makes the update ≈ the gradient for these small gradients: Adam's
    # g/√v would turn float noise into ±lr steps wherever a gradient is ~0 (the reward-head bias,
    # whose Bradley–Terry gradient cancels exactly), hiding what the test checks.
    sources = f"odd:pairs:{odd_pairs},shared"
    extra = ("--sources", sources, "--train_pairs_per_source", "11", "--max_steps", "13")
    extra += ("--learning_rate", "1e-2", "--adam_epsilon", "1e-2")
    two = tmp_path / "two"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "applications.reward_models.train", *_args(tiny_model, str(two), *extra)]
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert main(_args(tiny_model, str(tmp_path / "one"), *extra)) == 0

    for scheme in ("multitask", "more"):
        run = two / scheme
        assert json.loads((run / "metrics.json").read_text())["settings"]["num_processes"] == 2
        ranks = [
            [json.loads(x) for x in (run / name).read_text().splitlines()]
            for name in ("log.jsonl", "log.rank1.jsonl")
        ]
        assert [r["step"] for r in ranks[0]] == [r["step"] for r in ranks[1]] == list(range(1, 14))
        if scheme == "more":  # bit-identical λ on both ranks
            assert [r["lambda"] for r in ranks[0]] == [r["lambda"] for r in ranks[1]]
        a, b = _weights(run), _weights(tmp_path / "one" / scheme)
        init = load_file(os.path.join(tiny_model, "model.safetensors"))
        assert max((b[k] - init[k]).abs().max().item() for k in b) > 1e-4  # it trained
        for key in a:
            # Same global batches; only the order of float sums differs (DDP's mean of two
            # half-batch gradients against one full-batch gradient): measured ≤ 6e-8, against
            # weight changes of ~2e-4.
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 120.0) -> None:
    start = time.monotonic()
    while not path.is_dir():
        if process.poll() is not None:
            pytest.fail(f"the run ended (rc {process.returncode}) before writing {path}")
        if time.monotonic() - start > timeout:
            process.kill()
            pytest.fail(f"no {path} after {timeout} s")
        time.sleep(0.02)


def test_sigkill_after_first_checkpoint_then_resume_is_bit_identical(tmp_path, tiny_model):
    extra = ["--sources", "shared,lists", "--train_pairs_per_source", "5", "--max_steps", "16"]
    extra += ["--save_steps", "2", "--scheme", "all"]
    cmd = [sys.executable, "-m", "applications.reward_models.train"]
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [*cmd, *_args(tiny_model, str(killed), *extra)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(killed / "multitask" / "checkpoint-0000002", process)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert not (killed / "multitask" / "final").exists()

    resumed = subprocess.run(
        [*cmd, *_args(tiny_model, str(killed), *extra, "--resume")],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "[multitask] resumed from" in resumed.stdout
    assert main(_args(tiny_model, str(tmp_path / "full"), *extra)) == 0  # uninterrupted
    for scheme in ("multitask", "more"):
        a, b = _weights(killed / scheme), _weights(tmp_path / "full" / scheme)
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (scheme, key)
        logs = [(d / scheme / "log.jsonl").read_text() for d in (killed, tmp_path / "full")]
        assert logs[0] == logs[1]
