"""The study end to end on a tiny model: configuration, study.json, gate, verdicts, report."""

from __future__ import annotations

import json

import pytest

from applications.reward_models.study.__main__ import main
from applications.reward_models.study.config import parse_args
from applications.reward_models.study.report import shown_verdict
from applications.reward_models.study.summary import gate


def test_config_parsing_and_validation() -> None:
    config = parse_args(["--seeds", "2", "--variants", "more,multitask", "--hidden", "64,16"])
    assert config.seeds == 2 and config.variants == ["more", "multitask"]
    assert config.hidden == [64, 16] and config.simulator == "classic"
    assert config.margin == 0.005 and config.data_seeds == 2
    with pytest.raises(ValueError, match="unknown simulator 'nope'"):
        parse_args(["--simulator", "nope"])
    with pytest.raises(ValueError, match="unknown variants 'moore'"):
        parse_args(["--variants", "moore"])
    with pytest.raises(ValueError, match="curve_pairs"):
        parse_args(["--held_out_pairs", "10", "--curve_pairs", "20"])
    assert main(["--simulator", "nope"]) == 2


def test_gate_says_uninformative_unless_multitask_is_overconfident_beyond_noise() -> None:
    import numpy as np

    ok = gate(0.05, 0.02, np.array([1.3, 1.2]), 1.1, 2.0)
    assert ok["informative"] and "informative" in ok["text"]
    cool = gate(0.05, 0.02, np.array([1.0, 1.05]), 1.1, 2.0)
    noisy = gate(0.03, 0.02, np.array([1.3]), 1.1, 2.0)
    assert not cool["informative"] and not noisy["informative"]
    assert "UNINFORMATIVE" in cool["text"]
    assert shown_verdict("equivalent", False, "ece") == "uninformative (equivalent)"
    assert shown_verdict("equivalent", True, "ece") == "equivalent"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    from applications.reward_models.testing import save_tiny_reward_model

    return save_tiny_reward_model(str(tmp_path_factory.mktemp("m") / "tiny"))


def test_a_tiny_study_writes_verdicts_gate_and_logs(tiny, tmp_path, capsys) -> None:
    out = tmp_path / "study"
    argv = ["--seeds", "2", "--data_seeds", "2", "--max_steps", "4", "--model", tiny,
            "--train_pairs", "8", "--held_out_pairs", "16", "--curve_pairs", "2",
            "--eval_every", "2", "--pairs_per_source", "16", "--hidden", "8,8",
            "--n_boot", "30", "--n_sim", "10", "--progress", "false",
            "--output_dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    study = json.loads((out / "study.json").read_text())
    printed = capsys.readouterr().out
    assert "validity gate" in printed and study["gate"]["text"] in printed
    assert {"multitask", "balanced_uniform", "more", "more_official", "more_body"} <= set(
        study["variants"]
    )
    from mooptim.weightings import WEIGHTINGS

    if "upgrad" not in WEIGHTINGS:
        assert any("'upgrad' skipped" in n for n in study["notes"])
    ece = study["comparisons"]["ece"]
    assert ece["more - multitask"]["role"] == ece["more - balanced_uniform"]["role"] == "primary"
    assert all(c["role"] == "secondary" for n, c in ece.items() if n not in
               ("more - multitask", "more - balanced_uniform"))  # fmt: skip
    assert all(c["verdict"] in ("better", "worse", "equivalent", "inconclusive")
               for c in ece.values())  # fmt: skip
    logs = study["logs"]["more"]
    assert 0 <= logs["starved_share"] <= 1 and len(logs["series"]["step"]) == 2
    assert [p["step"] for p in study["curves"]["multitask"]] == [2, 4]
    report = (out / "study.md").read_text()
    assert study["gate"]["text"] in report and "more - balanced_uniform" in report
    assert {p.name for p in (out / "plots").iterdir()} == {"curves.png", "diagnostics.png"}


def test_curves_are_drawn_on_calibration_pairs_never_test_pairs(
    tiny, tmp_path, monkeypatch
) -> None:
    from applications.reward_models.modeling.reward_model import load_tokenizer
    from applications.reward_models.study import regime
    from applications.reward_models.study.pipeline import train_all
    from applications.reward_models.study.variants import VARIANTS

    seen = []
    real = regime.train_variant

    def spy(variant, settings, seed, table, data, curve):
        seen.append((data, curve))
        return real(variant, settings, seed, table, data, curve)

    monkeypatch.setattr(regime, "train_variant", spy)
    config = parse_args(["--seeds", "1", "--data_seeds", "1", "--max_steps", "2", "--model", tiny,
                         "--train_pairs", "4", "--held_out_pairs", "12", "--curve_pairs", "3",
                         "--hidden", "4,4", "--progress", "false",
                         "--output_dir", str(tmp_path)])  # fmt: skip
    train_all(config, [VARIANTS["multitask"]], load_tokenizer(tiny))
    ((data, curve),) = seen
    key = lambda p: (p.prompt, p.chosen, p.rejected)  # noqa: E731
    for name, pairs in curve.items():
        assert pairs and {key(p) for p in pairs} <= {key(p) for p in data.calibration[name]}
        assert not {key(p) for p in pairs} & {key(p) for p in data.test[name]}
