"""The one evaluator (evaluation.scorer.evaluate_model) and the training table built on it."""

from __future__ import annotations

import pytest
import torch

from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.evaluation.metrics import calibration_errors, preference_accuracy
from applications.reward_models.evaluation.report import comparison_table
from applications.reward_models.evaluation.scorer import AVERAGED, evaluate_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from applications.reward_models.modeling.reward_model import load_reward_model
    from applications.reward_models.testing import save_tiny_reward_model

    path = save_tiny_reward_model(str(tmp_path_factory.mktemp("rm") / "rm"), seed=3)
    return load_reward_model(path)


def test_entry_matches_direct_scoring_and_restores_the_mode(tiny):
    from applications.reward_models.modeling.scoring import score_pairs

    model, tok = tiny
    sim = PreferenceSimulator(0)
    test = {"shared": sim.pairs("shared", 12, "test"), "lists": sim.pairs("lists", 8, "test")}
    test["empty"] = []
    model.train()
    result = evaluate_model(model, tok, test, max_length=256, batch_size=5)
    assert model.training  # restored
    entry = result.entry
    assert set(entry["sources"]) == {"shared", "lists"}  # the empty source is skipped
    model.eval()
    c, r = score_pairs(model, tok, test["shared"], max_length=256, progress=False)
    d = (c - r).double()
    row = entry["sources"]["shared"]
    assert row["n"] == 12 and row["accuracy"] == pytest.approx(preference_accuracy(d).accuracy)
    assert row["ece"] == pytest.approx(calibration_errors(d).ece, abs=1e-6)
    assert row["truth"]["n"] == 12 and set(row["calibration"]) == {"5", "10", "20"}
    assert torch.allclose(result.diffs["shared"], d, atol=1e-5)
    assert entry["pooled"]["n"] == 20 and "truth" not in entry["pooled"]
    for key in AVERAGED:
        mean = (row[key] + entry["sources"]["lists"][key]) / 2
        assert entry["average"][key] == pytest.approx(mean)
    assert entry["drops"] == {"total": 0, "by_source": {}}


def test_overlength_pairs_are_counted(tiny):
    model, tok = tiny
    pairs = PreferenceSimulator(0).pairs("verbose", 30, "test")
    entry = evaluate_model(model, tok, {"verbose": pairs}, max_length=96).entry
    assert entry["drops"]["total"] > 0
    assert entry["sources"]["verbose"]["n"] + entry["drops"]["total"] == 30
    with pytest.raises(ValueError, match="exceeds max_length"):
        evaluate_model(model, tok, {"verbose": pairs}, max_length=8)


def test_comparison_table_reads_model_entries():
    def row(acc: float, ece: float, truth: float | None = None) -> dict:
        out = {"accuracy": acc, "ece": ece}
        return out if truth is None else {**out, "truth": {"ece": truth}}

    entries = {
        "multitask": {"sources": {"a": row(0.6, 0.1, 0.05), "b": row(0.8, 0.3, 0.15)}},
        "more": {"sources": {"a": row(0.7, 0.2, 0.1), "b": {"accuracy": None, "ece": None}}},
    }
    lines = comparison_table(entries).splitlines()
    assert lines[0].split() == [
        "source", "multitask", "acc", "more", "acc", "multitask", "ECE", "more", "ECE",
        "multitask", "gold", "ECE", "more", "gold", "ECE",
    ]  # fmt: skip
    assert lines[3].split() == ["b", "0.800", "-", "0.300", "-", "0.150", "-"]
    assert lines[4].split() == ["mean", "0.700", "0.700", "0.200", "0.200", "0.100", "0.100"]
