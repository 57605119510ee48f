"""The whole run (training/run.py): every scheme trained with the config's options."""

from __future__ import annotations

import pytest

import applications.reward_models.training.run as run_module
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.config import parse_args
from applications.reward_models.training.trainer import SchemeResult


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")


def test_run_gives_every_scheme_the_configs_options(tmp_path, tiny_model, monkeypatch):
    # run() used to resolve schemes by name alone, so --more.lambda_pairs never reached MORE.
    seen = []

    def train_scheme(config, scheme, data, *, accelerator=None):
        seen.append((scheme, config))
        return SchemeResult(scheme.name, str(tmp_path / scheme.name), {"sources": {}}, [], 0.0)

    monkeypatch.setattr(run_module, "train_scheme", train_scheme)
    monkeypatch.setattr(run_module, "_write_summary", lambda *args: None)
    argv = [
        "--model", tiny_model, "--output_dir", str(tmp_path), "--sources", "shared,lists",
        "--train_pairs_per_source", "4", "--test_pairs_per_source", "2", "--scheme", "all",
        "--more.lambda_pairs", "1", "--progress_bar", "false",
    ]  # fmt: skip
    results = run_module.run(parse_args(argv))
    assert list(results) == ["multitask", "more"]
    assert [s.name for s, _ in seen] == ["multitask", "more"]
    assert seen[1][1].more.lambda_pairs == 1
