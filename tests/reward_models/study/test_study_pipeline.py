"""The study's splits, configuration, analysis (synthetic scores) and one tiny end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from applications.reward_models.study.__main__ import main, summarize
from applications.reward_models.study.analysis import ALL_SOURCES, comparison_pairs
from applications.reward_models.study.config import StudyConfig, parse_args
from applications.reward_models.study.splits import build_splits
from applications.reward_models.study.training import Scored


def test_splits_are_disjoint_and_prefix_stable() -> None:
    data = build_splits("domains", 0, 30, 20, 15)
    assert data.names[0] == "shared" and len(data.names) == 5
    for name in data.names:
        keys = {
            split: {(p.prompt, p.chosen, p.rejected) for p in getattr(data, split)[name]}
            for split in ("train", "calibration", "test")
        }
        assert not keys["calibration"] & (keys["train"] | keys["test"])
        assert len(data.calibration[name]) + data.removed[name] == 20
        assert len(data.test[name]) == 15
    assert build_splits("domains", 0, 10, 5, 5).train == {n: p[:10] for n, p in data.train.items()}


def test_config_parsing_and_validation() -> None:
    config = parse_args(
        ["--seeds", "2", "--schemes", "more,multitask", "--trainable_blocks", "none"]
    )
    assert config.seeds == 2 and config.schemes == ["more", "multitask"]
    assert config.trainable_blocks is None and config.simulator == "domains"
    assert config.test_pairs >= 2000 and config.backbone == "frozen"
    assert parse_args(["--schemes", "more", "multitask"]).schemes == ["more", "multitask"]
    with pytest.raises(ValueError, match="unknown simulator 'nope'"):
        parse_args(["--simulator", "nope"])
    with pytest.raises(ValueError, match="seeds"):
        parse_args(["--seeds", "0"])
    with pytest.raises(ValueError, match="ablations are MORE variants"):
        parse_args(["--schemes", "multitask", "--ablations", "ema"])
    with pytest.raises(ValueError, match="unknown ablations 'emma'"):
        parse_args(["--ablations", "emma"])
    with pytest.raises(ValueError, match="curve_pairs"):
        parse_args(["--test_pairs", "10", "--curve_pairs", "20"])
    assert comparison_pairs(["multitask", "more", "balanced_uniform"]) == [
        ("more", "multitask"),
        ("more", "balanced_uniform"),
    ]
    assert comparison_pairs(["multitask"]) == []
    assert main(["--simulator", "nope"]) == 2


def _calibrated(rng: np.random.Generator, n: int) -> np.ndarray:
    d = rng.normal(0, 2, n)
    return np.where(rng.random(n) < 1 / (1 + np.exp(-d)), d, -d)


def _scored(base: tuple[np.ndarray, np.ndarray], scale: float) -> Scored:
    test, calibration = base
    return Scored(scale * test, scale * calibration, 1 / (1 + np.exp(-test)))


def test_summary_has_every_documented_key() -> None:
    rng = np.random.default_rng(0)
    base = [{s: (_calibrated(rng, 300), _calibrated(rng, 300)) for s in ("a", "b")} for _ in "12"]
    scores = {
        scheme: [{s: _scored(b[s], k) for s in b} for b in base]
        for scheme, k in (("multitask", 3.0), ("more", 1.0))
    }
    config = StudyConfig(seeds=2, n_boot=100, n_sim=100)  # type: ignore[call-arg]
    study = json.loads(json.dumps(summarize(config, scores)))
    assert study["schema_version"] == 1 and study["seeds"] == [0, 1]
    assert study["schemes"] == ["multitask", "more"] and study["sources"] == ["a", "b"]
    row = study["results"]["more"]["1"]["a"]
    for key in (
        "accuracy",
        "ece",
        "ece_ci",
        "noise_floor",
        "ece_temperature_scaled",
        "brier",
        "log_loss",
        "temperature",
        "gold_ece",
        "mean_abs_diff",
    ):
        assert key in row, key
    assert row["ece_ci"]["low"] <= row["ece"] <= row["ece_ci"]["high"]
    assert study["results"]["multitask"]["0"]["a"]["temperature"] > 2.0  # Δ scaled ×3
    comp = study["comparisons"]["more-multitask"]
    assert set(comp) == {"a", "b", ALL_SOURCES}
    assert comp[ALL_SOURCES]["delta_accuracy_ci"]["estimate"] == 0.0  # same ranking
    assert comp[ALL_SOURCES]["delta_ece_ci"]["high"] < 0.0  # the calibrated one wins


def test_tiny_end_to_end_run(tmp_path) -> None:
    from applications.reward_models.testing import save_tiny_reward_model

    model = save_tiny_reward_model(str(tmp_path / "tiny"))
    out = tmp_path / "study"
    argv = ["--seeds", "2", "--max_steps", "4", "--model", model, "--train_pairs", "12",
            "--calibration_pairs", "8", "--test_pairs", "10", "--curve_pairs", "4",
            "--eval_every", "2", "--n_boot", "50", "--n_sim", "50", "--progress", "false",
            "--ablations", "one_pair", "--output_dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    study = json.loads((out / "study.json").read_text())
    assert set(study["results"]) == {"multitask", "more", "balanced_uniform", "more[one_pair]"}
    assert set(study["comparisons"]) == {
        "more-multitask",
        "more-balanced_uniform",
        "more[one_pair]-more",
        "more[one_pair]-multitask",
    }
    assert study["results"]["more"]["1"]["shared"]["n"] == 10
    assert [c["step"] for c in study["curves"]["more"]["0"]] == [2, 4]
    lam = study["weights"]["balanced_uniform"]["0"]
    assert lam["mean"] == pytest.approx(dict.fromkeys(study["sources"], 0.2))
    assert set(study["weights"]["more"]["1"]) >= {"mean", "std", "effective_weight"}
    assert "## Comparisons" in (out / "study.md").read_text()
    # A second study on the same data reads the cached features instead of encoding again.
    assert (out / "features.pt").is_file()
    again = tmp_path / "again"
    argv2 = [*argv[:-1], str(again), "--feature_cache", str(out / "features.pt")]
    assert main(argv2) == 0
    assert not (again / "features.pt").exists()
    first = json.loads((again / "study.json").read_text())["results"]["more"]["0"]["all"]
    assert first["ece"] == study["results"]["more"]["0"]["all"]["ece"]  # deterministic


def test_the_long_preset_parses() -> None:
    from pathlib import Path

    import applications.reward_models as package

    path = Path(package.__file__).parent / "configs" / "study" / "long.yaml"
    config = parse_args(["--config", str(path)])
    assert config.seeds == 10 and config.test_pairs >= 2000
    assert set(config.ablations) == {"one_pair", "ema", "no_normalization", "more_pairs"}


def test_the_finetune_backbone_trains_with_the_full_trainer(tmp_path) -> None:
    from applications.reward_models.testing import save_tiny_reward_model

    model = save_tiny_reward_model(str(tmp_path / "tiny"))
    out = tmp_path / "study"
    argv = ["--backbone", "finetune", "--trainable_blocks", "1", "--seeds", "1",
            "--max_steps", "2", "--model", model, "--train_pairs", "12",
            "--calibration_pairs", "8", "--test_pairs", "10", "--curve_pairs", "4",
            "--schemes", "multitask,more", "--n_boot", "20", "--n_sim", "20",
            "--progress", "false", "--output_dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    study = json.loads((out / "study.json").read_text())
    assert study["results"]["more"]["0"]["shared"]["n"] == 10
    assert (out / "runs" / "more" / "seed0" / "more" / "final").is_dir()
    assert study["curves"]["more"]["0"] == []  # curves need the frozen backbone
    assert study["weights"]["more"]["0"]["mean"]["shared"] > 0  # λ from the trainer's log
    assert not (out / "features.pt").exists()
