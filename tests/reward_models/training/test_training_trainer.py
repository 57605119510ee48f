"""Training loop: smoke per scheme, exact resume, CLI outputs, options (multi-process runs:
test_training_processes.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.splits import load_source_data
from applications.reward_models.modeling.reward_model import load_tokenizer
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.config import TrainConfig
from applications.reward_models.training.run import main
from applications.reward_models.training.schemes import source_losses
from applications.reward_models.training.trainer import train_scheme

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")


def _config(model: str, output_dir: str, **overrides) -> TrainConfig:
    values = {
        "model": model,
        "output_dir": output_dir,
        "sources": [SourceSpec("shared"), SourceSpec("lists"), SourceSpec("concise")],
        "train_pairs_per_source": 12,
        "test_pairs_per_source": 4,
        "pairs_per_source": 2,
        "max_steps": 4,
        "learning_rate": 1e-3,
        "max_length": 128,
        "progress_bar": False,
    }
    values.update(overrides)
    return TrainConfig(**values).validate()


def _data(config: TrainConfig):
    return load_source_data(config, load_tokenizer(config.model))


def test_source_losses_are_bradley_terry_per_source():
    margins = torch.tensor([1.0, -2.0, 0.0, 3.0])
    losses, accs = source_losses(margins, ["a", "b", "a", "b"], ["a", "b", "c"])
    nll = -torch.nn.functional.logsigmoid(margins)
    torch.testing.assert_close(losses[0], nll[[0, 2]].mean())
    torch.testing.assert_close(losses[1], nll[[1, 3]].mean())
    assert losses[2] is None and accs[2] is None
    assert accs[0].item() == 0.75 and accs[1].item() == 0.5  # a tie counts half


@pytest.mark.parametrize("scheme", ["single", "multitask", "more"])
def test_each_scheme_trains_and_writes_outputs(tmp_path, tiny_model, scheme):
    config = _config(tiny_model, str(tmp_path), scheme=scheme, logging_steps=2)
    result = train_scheme(config, scheme, _data(config))
    assert [row["step"] for row in result.log] == [2, 4]
    row = result.log[-1]
    assert set(row) >= {"loss", "lr", "loss_by_source", "accuracy_by_source"}
    if scheme == "more":
        lam = torch.tensor(list(row["lambda"].values()))
        assert lam.min() >= 0 and abs(lam.sum().item() - 1) < 1e-6
    if scheme == "single":  # only the first source is trained
        assert row["loss_by_source"]["lists"] is None
    assert set(result.metrics["sources"]) == {"shared", "lists", "concise"}
    run_dir = tmp_path / scheme
    assert (run_dir / "final" / "config.json").is_file()
    written = json.loads((run_dir / "metrics.json").read_text())
    assert written["schema_version"] == 1 and written["models"][scheme]["sources"]["shared"]["n"]
    lines = (run_dir / "log.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [2, 4]


@pytest.mark.parametrize("scheme", ["more", "multitask"])
def test_resume_equals_uninterrupted_run(tmp_path, tiny_model, scheme):
    common = {"scheme": scheme, "max_steps": 5, "save_steps": 2, "train_pairs_per_source": 6}
    full = _config(tiny_model, str(tmp_path / "full"), **common)
    data = _data(full)
    reference = train_scheme(full, scheme, data)

    part = _config(tiny_model, str(tmp_path / "part"), **common)
    # train_pairs 6 / pairs_per_source 2: the interruption falls across a sampler epoch end
    train_scheme(part, scheme, data, stop_after=3)  # "crash" after step 3: checkpoint at 2
    resumed = train_scheme(
        _config(tiny_model, part.output_dir, resume=True, **common), scheme, data
    )

    assert resumed.log == reference.log
    a = load_file(str(tmp_path / "full" / scheme / "final" / "model.safetensors"))
    b = load_file(str(tmp_path / "part" / scheme / "final" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    log_lines = (tmp_path / "part" / scheme / "log.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in log_lines] == reference.log


def test_cli_writes_everything(tmp_path, tiny_model, capsys):
    argv = [
        "--model", tiny_model, "--output_dir", str(tmp_path), "--sources", "shared,lists",
        "--train_pairs_per_source", "8", "--test_pairs_per_source", "4", "--pairs_per_source", "2",
        "--max_steps", "2", "--progress_bar", "false",
    ]  # fmt: skip
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "multitask acc" in table and "more ECE" in table and "shared" in table
    for name in ("config.yaml", "drops.json", "metrics.json", "table.txt"):
        assert (tmp_path / name).is_file(), name
    for scheme in ("multitask", "more"):
        assert (tmp_path / scheme / "final" / "model.safetensors").is_file()
    assert main(["--scheme", "nope"]) == 2
    assert "unknown scheme" in capsys.readouterr().err
    assert "95% intervals" in table and "ECE floor" in table and "gold ECE:" in table
    assert table.count("no difference") + table.count("differs") == 2  # one verdict a source


def test_the_printed_evaluate_command_reproduces_the_train_table(tmp_path, tiny_model, capsys):
    """``evaluate`` with the command training prints (its defaults are training's) scores the
    same test pairs and gets the same numbers as the training table."""
    import shlex

    from applications.reward_models.evaluation.evaluator import main as evaluate_main

    argv = [
        "--model", tiny_model, "--output_dir", str(tmp_path), "--sources", "shared,lists",
        "--train_pairs_per_source", "8", "--test_pairs_per_source", "6", "--pairs_per_source", "2",
        "--max_steps", "2", "--progress_bar", "false",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if "applications.reward_models.evaluate" in x]
    command = shlex.split(line)
    assert command[:3] == ["python", "-m", "applications.reward_models.evaluate"]
    assert "--test_pairs_per_source" in command and "--max_length" not in command
    assert evaluate_main([*command[3:], "--no_plots", "--no_progress"]) == 0
    trained = json.loads((tmp_path / "metrics.json").read_text())["models"]
    evaluated = json.loads((tmp_path / "evaluation" / "metrics.json").read_text())["models"]
    for scheme in ("multitask", "more"):
        for source in ("shared", "lists"):
            a, b = trained[scheme]["sources"][source], evaluated[scheme]["sources"][source]
            assert a["n"] == b["n"] == 6
            assert a["accuracy"] == b["accuracy"]
            assert a["ece"] == pytest.approx(b["ece"], abs=1e-6)


def test_options_bf16_checkpointing_accumulation_subspaces(tmp_path, tiny_model):
    from applications.reward_models.sections import MoreConfig

    variants = [
        {
            "gradient_checkpointing": True,
            "gradient_accumulation_steps": 2,
            "trainable_blocks": 1,
            "more": MoreConfig(subspace="last_blocks"),
        },
        {"more": MoreConfig(subspace="all", strategy="gram", ema_alpha=None)},
    ]
    for i, extra in enumerate(variants):
        config = _config(tiny_model, str(tmp_path / str(i)), max_steps=2, **extra)
        result = train_scheme(config, "more", _data(config))
        lam = list(result.log[-1]["lambda"].values())
        assert abs(sum(lam) - 1) < 1e-6 and min(lam) >= 0


def test_bf16_run_in_its_own_process(tmp_path, tiny_model):
    # accelerate keeps one precision per process, so bf16 runs as its own CLI process
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    argv = [
        "--model", tiny_model, "--output_dir", str(tmp_path), "--sources", "shared,lists",
        "--train_pairs_per_source", "4", "--test_pairs_per_source", "2", "--pairs_per_source", "2",
        "--max_steps", "2", "--progress_bar", "false", "--mixed_precision", "bf16",
        "--scheme", "more",
    ]  # fmt: skip
    cmd = [sys.executable, "-m", "applications.reward_models.train", *argv]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    log = [json.loads(x) for x in (tmp_path / "more" / "log.jsonl").read_text().splitlines()]
    assert abs(sum(log[-1]["lambda"].values()) - 1) < 1e-6


def test_another_precision_in_one_process_is_refused_without_private_api(monkeypatch):
    from accelerate.state import AcceleratorState

    from applications.reward_models.training.distributed import make_accelerator

    def private(*args, **kwargs):
        raise AssertionError("AcceleratorState._reset_state is private accelerate API")

    monkeypatch.setattr(AcceleratorState, "_reset_state", private)
    make_accelerator(TrainConfig())  # "no", as every other test of this process
    with pytest.raises(ValueError, match="its own process"):
        make_accelerator(TrainConfig(mixed_precision="bf16"))
