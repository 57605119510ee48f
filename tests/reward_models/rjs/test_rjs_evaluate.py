"""The evaluate stage's ECE file: paper roles, reuse, and the clear error on real data."""

from __future__ import annotations

import json

import pytest

from applications.reward_models.evaluation.schema import metrics_document, write_metrics
from applications.reward_models.rjs.config import RJSConfig
from applications.reward_models.rjs.evaluate import judge_record_path, rm_ece


def _rm_with_metrics(tmp_path, per_source):
    final = tmp_path / "rms" / "more" / "final"
    final.mkdir(parents=True)
    sources = {s: {"ece": e} for s, e in per_source.items()}
    entry = {"sources": sources, "average": {"ece": sum(per_source.values()) / len(per_source)}}
    write_metrics(final.parent / "metrics.json", metrics_document({"more": entry}))
    return str(final)


def test_rm_ece_reads_the_roles_and_redoes_a_file_of_other_roles(tmp_path):
    path = _rm_with_metrics(tmp_path, {"shared": 0.01, "noisy": 0.05, "lists": 0.3})
    cfg = RJSConfig(
        output_dir=str(tmp_path / "run"), ece_sources=["helpful=shared", "harmless=noisy"]
    )
    info = rm_ece(cfg, None, "more", path)
    assert info["ece"] == pytest.approx(0.03)
    on_disk = json.loads(cfg.path("eval", "ece", "more.json").read_text())
    assert on_disk == info and on_disk["roles"]["harmless"]["source"] == "noisy"
    # An ECE file of an older run (other roles) is not reused.
    cfg.ece_sources = ["helpful=shared", "harmless=shared"]
    assert rm_ece(cfg, None, "more", path)["ece"] == pytest.approx(0.01)


def test_rm_ece_on_real_data_without_the_sources_is_a_clear_error(tmp_path):
    path = _rm_with_metrics(tmp_path, {"hh_helpful": 0.02})
    cfg = RJSConfig(output_dir=str(tmp_path / "run"), prompt_source="hh_helpful")
    with pytest.raises(ValueError, match=r"hh_harmless.*--ece_sources"):
        rm_ece(cfg, None, "more", path)
    cfg.ece_sources = ["helpful=hh_helpful"]
    assert rm_ece(cfg, None, "more", path)["ece"] == pytest.approx(0.02)


def test_judge_record_path_names_both_sides(tmp_path):
    cfg = RJSConfig(output_dir=str(tmp_path))
    assert judge_record_path(cfg, "more", "multitask") == tmp_path / "eval" / "judge" / (
        "more-vs-multitask.json"
    )


def test_long_preset_judges_hundreds_of_prompts_and_the_default_stays_quick():
    from pathlib import Path

    import applications.reward_models
    from applications.reward_models.rjs.config import parse_args

    preset = Path(applications.reward_models.__file__).parent / "configs" / "rjs" / "long.yaml"
    _, cfg = parse_args(["all", "--config", str(preset)])
    assert cfg.eval_prompts == cfg.num_prompts == 300
    assert cfg.ece_roles() == {"helpful": "shared", "harmless": "shared"}
    _, quick = parse_args(["all"])
    assert quick.eval_prompts == quick.num_prompts == 32
