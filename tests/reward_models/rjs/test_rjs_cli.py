"""End-to-end: every stage of the CLI on a tiny policy and two tiny RMs, then resume."""

from __future__ import annotations

import json

import pytest
from rjs_helpers import save_tiny_policy, save_tiny_rm

from applications.reward_models.cli import ConfigError
from applications.reward_models.files import read_jsonl
from applications.reward_models.rjs.__main__ import main
from applications.reward_models.rjs.config import RJSConfig, parse_args


def test_flags_map_to_config():
    stage, cfg = parse_args(
        ["sample", "--n", "3", "--rms", "a=/x", "b=/y", "--top_p", "0.5", "--prompt-path", "f.json"]
    )
    assert stage == "sample"
    assert cfg.n == 3 and cfg.top_p == 0.5 and cfg.prompt_path == "f.json"
    assert cfg.reward_models() == {"a": "/x", "b": "/y"}
    assert RJSConfig(rm_dir="r").reward_models() == {
        "multitask": "r/multitask/final",
        "more": "r/more/final",
    }
    with pytest.raises(ValueError, match="NAME=PATH"):
        RJSConfig(rms=["oops"]).reward_models()


def test_one_name_per_knob_and_the_scoring_section_is_the_training_clis():
    from applications.reward_models.training.config import TrainConfig

    _, cfg = parse_args(["all", "--output_dir", "o", "--simulator_seed", "3"])
    assert cfg.output_dir == "o" and cfg.simulator_seed == 3
    assert not hasattr(cfg, "out_dir") and not hasattr(cfg, "sim_seed")
    for removed in (["--out-dir", "o"], ["--sim_seed", "3"], ["--rm_max_length", "9"]):
        with pytest.raises(ConfigError, match="unknown option"):
            parse_args(["all", *removed])
    train = TrainConfig()
    assert (cfg.max_length, cfg.eval_batch_size) == (train.max_length, train.eval_batch_size)


def test_a_one_file_prompt_source_splits_its_prompts(tmp_path):
    from applications.reward_models.data import PreferenceSimulator, save_pairs
    from applications.reward_models.rjs.pipeline import load_prompts

    path = save_pairs(PreferenceSimulator(0).pairs("lists", 40), tmp_path / "prompts.jsonl")
    argv = ["all", "--prompt_source", "pairs", "--prompt_path", str(path)]
    _, cfg = parse_args([*argv, "--prompt_holdout_fraction", "0.25"])
    train, test = load_prompts(cfg, "train", 100), load_prompts(cfg, "test", 100)
    assert train and test and not set(train) & set(test)
    assert len(set(train) | set(test)) == len(
        {p.prompt for p in PreferenceSimulator(0).pairs("lists", 40)}
    )
    _, whole = parse_args(argv)
    with pytest.raises(ValueError, match="one file"):
        load_prompts(whole, "test", 10)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["sampel"], "invalid choice: 'sampel'"),
        ([], "required: stage"),
        (["all", "--top_p", "0"], r"--top_p must be in \(0, 1\]"),
        (["all", "--temperature", "nan"], "--temperature must be a finite number"),
        (["all", "--judge", "gpt"], "--judge must be gold, http or rm:NAME"),
        (["all", "--n", "2", "--n", "3"], "--n given twice"),
        (["all", "--prompt_source", "hh_helpfull"], "did you mean 'hh_helpful'"),
    ],
)
def test_bad_options_are_one_line_errors(argv, match, capsys):
    with pytest.raises(ConfigError, match=match):
        parse_args(argv)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.slow
def _check_samples_and_judgements(out) -> None:
    samples = read_jsonl(out / "samples.jsonl").records
    assert len(samples) == 5 and all(len(r["samples"]) == 2 for r in samples)
    for rm in ("multitask", "more"):
        assert len(read_jsonl(out / "scores" / f"{rm}.jsonl").records) == 5
        assert len(read_jsonl(out / "selected" / f"{rm}.jsonl").records) == 5
        assert json.loads((out / "policies" / rm / "sft_stats.json").read_text())["steps"] == 2
        judged = json.loads((out / "eval" / "judge" / f"{rm}-vs-base.json").read_text())
        assert judged["win"] + judged["tie"] + judged["lose"] == 3 and judged["judge"] == "gold"
        assert judged["ci"]["level"] == 0.95 and len(judged["outcomes"]) == 3
    # Head to head on the same prompts: MORE-aligned (listed later) vs MultiTask-aligned.
    h2h = json.loads((out / "eval" / "judge" / "more-vs-multitask.json").read_text())
    assert (h2h["candidate"], h2h["baseline"], h2h["n"]) == ("more", "multitask", 3)
    assert sorted(p.name for p in (out / "eval" / "judge").iterdir()) == [
        "more-vs-base.json",
        "more-vs-multitask.json",
        "multitask-vs-base.json",
    ]


def _check_resume(out, flags, capsys) -> None:
    # Resume: every stage finds its outputs and does no new work; samples are not regenerated.
    before = (out / "samples.jsonl").read_text()
    capsys.readouterr()
    assert main(["sample", *flags]) == 0
    assert (out / "samples.jsonl").read_text() == before
    assert main(["sft", *flags]) == 0
    assert "exists, skipped" in capsys.readouterr().err
    assert main(["evaluate", *flags]) == 0
    assert capsys.readouterr().err.count("perplexity on disk, skipped") == 3


def test_all_stages_then_resume(tmp_path, capsys):
    policy = save_tiny_policy(tmp_path / "policy")
    rm_dir = tmp_path / "rms"
    save_tiny_rm(rm_dir / "multitask" / "final", seed=1)
    save_tiny_rm(rm_dir / "more" / "final", seed=2)
    # The training run's metrics.json (the one schema; ECE = mean over sources).
    from applications.reward_models.evaluation.schema import metrics_document, write_metrics

    rows = {"shared": {"ece": 0.0321}, "verbose": {"ece": 0.0521}}
    entry = {"sources": rows, "average": {"ece": 0.0421}}
    write_metrics(rm_dir / "more" / "metrics.json", metrics_document({"more": entry}))
    out = tmp_path / "run"
    flags = [
        "--output_dir", str(out), "--policy", str(policy), "--rm-dir", str(rm_dir),
        "--num-prompts", "5", "--eval-prompts", "3", "--n", "2", "--max-new-tokens", "4",
        "--gen-batch-size", "4", "--sft-max-steps", "2", "--sft-batch-size", "2",
        "--ppl-pairs", "3", "--ece-pairs", "4", "--ppl-sources", "shared", "verbose",
        "--max-length", "256",
    ]  # fmt: skip
    assert main(["all", *flags]) == 0

    _check_samples_and_judgements(out)
    ece = {
        rm: json.loads((out / "eval" / "ece" / f"{rm}.json").read_text())
        for rm in ("multitask", "more")
    }
    # The paper's ECE: mean over the Helpful and Harmless test sets; on the simulator both are
    # played by `shared`, so it is shared's ECE (0.0321), not the mean over all sources (0.0421).
    assert ece["more"]["ece"] == pytest.approx(0.0321)
    assert ece["more"]["from"] == f"{rm_dir / 'more' / 'metrics.json'}: models.more.sources"
    assert ece["more"]["roles"]["harmless"] == {"source": "shared", "ece": 0.0321}
    assert ece["multitask"]["from"].startswith("computed") and 0 <= ece["multitask"]["ece"] <= 1
    assert set(ece["multitask"]["roles"]) == {"helpful", "harmless"}

    report = json.loads((out / "report.json").read_text())
    assert [r["policy"] for r in report["rows"]] == ["base", "rjs[multitask]", "rjs[more]"]
    assert list(report["rows"][0]["ppl"]) == ["shared", "verbose"]
    assert report["ece_sources"] == {"helpful": "shared", "harmless": "shared"}
    (vs,) = report["head_to_head"]
    assert (vs["candidate"], vs["baseline"], vs["n"]) == ("rjs[more]", "rjs[multitask]", 3)
    md = (out / "report.md").read_text()
    assert "| rjs[more] | more | 0.0321 |" in md
    assert "## Head to head" in md and "| rjs[more] | rjs[multitask] | 3 |" in md
    assert "helpful = `shared`, harmless = `shared`" in md

    _check_resume(out, flags, capsys)


def test_prompts_from_a_preference_source(monkeypatch):
    from applications.reward_models.data.schema import PreferencePair
    from applications.reward_models.rjs import pipeline

    def fake_pairs(cfg, kind, split, log=None):
        assert kind == "hh_helpful"
        return [
            PreferencePair(f"{split} prompt {i // 2}", f"good {i}", f"bad {i}", kind)
            for i in range(6)
        ]

    monkeypatch.setattr(pipeline, "_source_pairs", fake_pairs)
    cfg = RJSConfig(prompt_source="hh_helpful")
    # Unique prompts in file order, first n.
    assert pipeline.load_prompts(cfg, "train", 2) == ["train prompt 0", "train prompt 1"]
    assert len(pipeline.load_prompts(cfg, "train", 10)) == 3
    held = pipeline.held_out_pairs(cfg, 4)
    assert list(held) == ["hh_helpful"] and [p.chosen for p in held["hh_helpful"]] == [
        "good 0",
        "good 1",
        "good 2",
        "good 3",
    ]
    sim = pipeline.held_out_pairs(RJSConfig(ppl_sources=["shared"]), 3)
    assert list(sim) == ["shared"] and len(sim["shared"]) == 3
