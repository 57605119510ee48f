"""Killed and resumed runs: refused setting changes, atomic markers, GradScaler state, data prep."""

from __future__ import annotations

import contextlib
import json
import types

import pytest
import torch
import yaml

import applications.reward_models.training.run as run_module
import applications.reward_models.training.trainer as trainer_module
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.splits import load_source_data
from applications.reward_models.modeling.reward_model import load_tokenizer
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.config import TrainConfig, parse_args
from applications.reward_models.training.distributed import make_accelerator
from applications.reward_models.training.resume import ResumeConfigError, check_resume_config
from applications.reward_models.training.run import main, run
from applications.reward_models.training.trainer import RewardModelTrainer


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")


def _argv(model: str, out: str, *extra: str) -> list[str]:
    return [
        "--model", model, "--output_dir", out, "--sources", "shared,lists", "--max_length", "128",
        "--train_pairs_per_source", "4", "--test_pairs_per_source", "2", "--pairs_per_source", "2",
        "--max_steps", "2", "--progress_bar", "false", "--scheme", "multitask", *extra,
    ]  # fmt: skip


def test_resume_refuses_changed_settings_and_keeps_config_yaml(tmp_path, tiny_model, capsys):
    argv = _argv(tiny_model, str(tmp_path))
    assert main(argv) == 0
    saved = (tmp_path / "config.yaml").read_text()
    changed = ["--resume", "--learning_rate", "0.002", "--more.ema_alpha", "0.5"]
    with pytest.raises(ResumeConfigError) as err:
        run(parse_args(argv + changed))
    message = str(err.value)
    assert "learning_rate: saved 0.0005, now 0.002" in message and "more.ema_alpha" in message
    assert "max_steps" not in message
    assert main(argv + changed) == 2 and "learning_rate" in capsys.readouterr().err
    # settings that do not change results may differ; config.yaml stays the original run's
    assert main([*argv, "--resume", "--logging_steps", "5", "--save_steps", "1"]) == 0
    assert "already finished" in capsys.readouterr().out
    assert (tmp_path / "config.yaml").read_text() == saved


def test_resume_check_reads_config_yaml(tmp_path):
    path = tmp_path / "config.yaml"
    check_resume_config(TrainConfig(), str(path))  # nothing saved yet: nothing to compare
    path.write_text(yaml.safe_dump({"seed": 3, "sources": ["shared"]}))
    check_resume_config(TrainConfig(seed=3, sources=[SourceSpec("shared")]), str(path))
    with pytest.raises(ResumeConfigError, match=r"seed: saved 3, now 4") as err:
        check_resume_config(TrainConfig(seed=4, sources=[SourceSpec("shared")]), str(path))
    assert "sources" not in str(err.value)


def test_metrics_json_is_written_whole_or_not_at_all(tmp_path, tiny_model, monkeypatch):
    # metrics.json marks a scheme finished for --resume: a crash while writing it must not leave
    # a partial file (here: a value json cannot serialise, half way through the dict).
    def evaluate(*args, **kwargs):
        rows = {"shared": {"n": 4, "accuracy": 0.5}, "lists": {"n": 4, "accuracy": object()}}
        return types.SimpleNamespace(entry={"sources": rows}, diffs={})

    monkeypatch.setattr(trainer_module, "evaluate_model", evaluate)
    with pytest.raises(TypeError):
        main(_argv(tiny_model, str(tmp_path)))
    assert (tmp_path / "multitask" / "final").is_dir()
    assert not (tmp_path / "multitask" / "metrics.json").exists()
    assert [p.name for p in (tmp_path / "multitask").glob("*.tmp-*")] == []


def test_data_is_prepared_under_main_process_first(tmp_path, tiny_model, monkeypatch):
    from accelerate import Accelerator

    inside: list[bool] = []
    state = {"inside": False}
    original = Accelerator.main_process_first

    @contextlib.contextmanager
    def recording(self):
        with original(self):
            state["inside"] = True
            try:
                yield
            finally:
                state["inside"] = False

    class Stop(Exception):
        pass

    def load(*args, **kwargs):
        inside.append(state["inside"])
        raise Stop

    monkeypatch.setattr(Accelerator, "main_process_first", recording)
    monkeypatch.setattr(run_module, "load_source_data", load)
    with pytest.raises(Stop):
        run(parse_args(_argv(tiny_model, str(tmp_path))))
    assert inside == [True]


def test_grad_scaler_state_is_saved_and_restored(tmp_path, tiny_model):
    # accelerate exposes its fp16 GradScaler as accelerator.scaler (CUDA only); a CPU scaler that
    # doubles its scale every step stands in for it.
    config = TrainConfig(**{
        "model": tiny_model, "output_dir": str(tmp_path), "max_length": 128, "max_steps": 4,
        "sources": [SourceSpec("shared"), SourceSpec("lists")], "train_pairs_per_source": 4,
        "test_pairs_per_source": 2, "pairs_per_source": 2, "save_steps": 2, "max_grad_norm": 0.0,
        "progress_bar": False,
    }).validate()  # fmt: skip
    data = load_source_data(config, load_tokenizer(tiny_model))

    def trainer(resume: bool) -> RewardModelTrainer:
        config.resume = resume
        accelerator = make_accelerator(config)
        accelerator.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=1)
        return RewardModelTrainer(config, "multitask", data, accelerator=accelerator)

    first = trainer(False)
    first.train(stop_after=3)  # checkpoint at step 2
    assert first.accelerator.scaler.get_scale() == 2.0**11
    state = torch.load(
        tmp_path / "multitask" / "checkpoint-0000002" / "trainer_state.pt", weights_only=True
    )
    assert state["scaler"]["scale"] == 2.0**10
    resumed = trainer(True)
    resumed.setup()
    assert resumed.global_step == 2 and resumed.accelerator.scaler.get_scale() == 2.0**10
    json.dumps(resumed.state_dict()["scaler"])  # plain data
