"""Tests for the evaluation CLI (evaluation.evaluator) on tiny saved models."""

from __future__ import annotations

import json
import os

import pytest

from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.data.source_spec import SourceSpec, parse_source
from applications.reward_models.evaluation import evaluator as ev
from applications.reward_models.evaluation.metrics import calibration_errors, preference_accuracy


def _save_tiny(path: str, seed: int) -> str:
    from applications.reward_models.testing import save_tiny_reward_model

    return save_tiny_reward_model(
        path, "bert", "cls", seed, num_hidden_layers=1, initializer_range=0.5
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("rms")
    a = _save_tiny(str(root / "a"), 0)
    os.makedirs(root / "run_b")
    b = _save_tiny(str(root / "run_b" / "final"), 1)
    return a, os.path.dirname(b)


@pytest.fixture(scope="module")
def cli_run(saved, tmp_path_factory):
    a, b_run = saved
    out = tmp_path_factory.mktemp("eval")
    rc = ev.main(
        [
            "--models", f"A={a}", f"B={b_run}",
            "--sources", "shared", "verbose:simulator",
            "--test_pairs_per_source", "10",
            "--max_length", "256",
            "--trained_on", "A=shared", "B=verbose",
            "--output_dir", str(out),
            "--no_progress",
        ]
    )  # fmt: skip
    assert rc == 0
    return out


def test_cli_writes_metrics_report_and_plots(cli_run):
    names = set(os.listdir(cli_run))
    assert {"metrics.json", "report.md", "reliability.png", "reward_diffs.png"} <= names
    assert {"margins.png", "accuracy_matrix.png", "reliability_shared.png"} <= names
    for n in names:
        if n.endswith(".png"):
            with open(cli_run / n, "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    res = json.loads((cli_run / "metrics.json").read_text())
    assert res["schema_version"] == 1 and res["settings"]["split"]["data_seed"] == 0
    assert res["settings"]["split"]["test"]["shared"] == "simulator split 'test'"
    assert set(res["models"]) == {"A", "B"}
    entry = res["models"]["A"]
    assert set(entry["sources"]) == {"shared", "verbose"}
    shared = entry["sources"]["shared"]
    assert (
        shared["n"] == 10 and "truth" in shared and set(shared["calibration"]) == {"5", "10", "20"}
    )
    assert entry["trained_on"] == "shared"
    avg = (shared["accuracy"] + entry["sources"]["verbose"]["accuracy"]) / 2
    assert entry["average"]["accuracy"] == pytest.approx(avg)
    table = (cli_run / "report.md").read_text()
    assert "| Model | shared | verbose | Avg | ECE |" in table
    assert "| A |" in table and "| B |" in table


def test_metrics_match_direct_scoring(saved, cli_run):
    from applications.reward_models.modeling.reward_model import load_reward_model
    from applications.reward_models.modeling.scoring import score_pairs

    model, tok = load_reward_model(saved[0])
    pairs = PreferenceSimulator(0).pairs("shared", 10, split="test")
    c, r = score_pairs(model, tok, pairs, max_length=256, progress=False)
    d = (c - r).double()
    res = json.loads((cli_run / "metrics.json").read_text())["models"]["A"]["sources"]["shared"]
    assert res["accuracy"] == pytest.approx(preference_accuracy(d).accuracy)
    assert res["ece"] == pytest.approx(calibration_errors(d).ece, abs=1e-6)


def test_pairs_file_source(saved, tmp_path):
    pairs = PreferenceSimulator(0).pairs("concise", 6, split="test")
    f = tmp_path / "test.jsonl"
    f.write_text("\n".join(json.dumps(p.to_dict()) for p in pairs) + "\n")
    res = ev.evaluate(
        {"A": saved[0]},
        [parse_source(f"mine:pairs:{f}")],
        str(tmp_path / "out"),
        max_length=256,
        make_plots=False,
        progress=False,
    )
    assert res["models"]["A"]["sources"]["mine"]["n"] == 6
    assert "truth" in res["models"]["A"]["sources"]["mine"]


def test_real_loader_source_from_a_local_file(saved, tmp_path):
    rows = [
        {
            "chosen": f"\n\nHuman: q{i}?\n\nAssistant: a good answer {i}",
            "rejected": f"\n\nHuman: q{i}?\n\nAssistant: no",
        }
        for i in range(5)
    ] + [
        {"chosen": "\n\nHuman: x\n\nAssistant: same", "rejected": "\n\nHuman: x\n\nAssistant: same"}
    ]
    f = tmp_path / "test.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    res = ev.evaluate(
        {"A": saved[0]},
        [parse_source(f"helpful:hh_helpful:{f}")],
        str(tmp_path / "out"),
        max_length=256,
        make_plots=False,
        progress=False,
    )
    assert res["models"]["A"]["sources"]["helpful"]["n"] == 5
    assert res["drops"]["total"] == 1  # the identical pair, counted


def test_overlength_pairs_are_counted_not_lost(saved, tmp_path):
    res = ev.evaluate(
        {"A": saved[0]},
        [SourceSpec("verbose")],
        str(tmp_path),
        n_per_source=40,
        max_length=96,
        make_plots=False,
        progress=False,
    )
    entry = res["models"]["A"]
    dropped = entry["drops"]["total"]
    assert dropped > 0
    assert entry["sources"]["verbose"]["n"] + dropped == 40


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--models", "A=/no/such/dir"], "does not exist"),
        (["--models", "A={a}", "--sources", "shared:nosuchkind"], "unknown source kind"),
        (["--models", "A={a}", "--sources", "nosuchsource"], "nosuchsource"),
        (["--models", "A={a}", "--sources", "x:pairs:/no/file.jsonl"], "does not exist"),
        (["--models", "A={tmp}"], "not a reward-model checkpoint"),
    ],
)
def test_cli_errors_are_clear(saved, tmp_path, capsys, argv, message):
    argv = [a.format(a=saved[0], tmp=tmp_path) for a in argv]
    rc = ev.main([*argv, "--output_dir", str(tmp_path / "o"), "--no_progress"])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_parse_args():
    assert ev.parse_model_arg("x=/a/b") == ("x", "/a/b")
    assert ev.parse_model_arg("/runs/more/final") == ("more", "/runs/more/final")
    assert parse_source("h:hh_helpful:/d") == SourceSpec("h", "hh_helpful", "/d")
    with pytest.raises(ValueError, match="needs a file"):
        ev.load_eval_pairs([parse_source("x:pairs")])


def test_holdout_source_scores_exactly_the_pairs_training_held_out(tmp_path):
    from applications.reward_models.data import save_pairs
    from applications.reward_models.data.splits import load_splits

    path = str(save_pairs(PreferenceSimulator(0).pairs("lists", 60), tmp_path / "all.jsonl"))
    trained = load_splits(
        [SourceSpec("mine", "pairs", path, holdout_fraction=0.3)],
        data_seed=5,
        train_pairs=None,
        test_pairs=None,
    )
    source = SourceSpec("mine", "pairs", path, holdout_fraction=0.3)
    test = ev.load_eval_pairs([source], None, simulator_seed=5)
    assert test["mine"] == trained.test["mine"]
    assert not set(test["mine"]) & set(trained.train["mine"])
    # without a holdout, a file named on the evaluate command line is the test file itself
    whole = ev.load_eval_pairs([SourceSpec("mine", "pairs", path)], None, simulator_seed=5)
    assert len(whole["mine"]) == 60
