from __future__ import annotations

import json

import pytest
from rjs_helpers import tiny_rm

from applications.reward_models.rjs.report import Table2Row, render_markdown, write_report
from applications.reward_models.rjs.rm_calibration import compute_rm_ece, read_rm_ece


def _metrics(models):
    from applications.reward_models.evaluation.schema import metrics_document

    return metrics_document({m: {"sources": {}, "average": {"ece": e}} for m, e in models.items()})


@pytest.mark.parametrize(
    "layout",
    [{"ece": 0.1}, {"test": {"ece": 0.2}}, {"scheme": "more", "test": {"a": {"ece": 0.1}}}],
)
def test_old_metrics_layouts_are_an_error_not_a_guess(tmp_path, layout):
    (tmp_path / "metrics.json").write_text(json.dumps(layout))
    with pytest.raises(ValueError, match="no schema_version"):
        read_rm_ece(tmp_path / "final")


def test_read_rm_ece_looks_next_to_the_checkpoint(tmp_path):
    from applications.reward_models.evaluation.schema import write_metrics

    final = tmp_path / "more" / "final"
    final.mkdir(parents=True)
    assert read_rm_ece(final) is None
    write_metrics(tmp_path / "more" / "metrics.json", _metrics({"more": 0.05}))
    ece, where = read_rm_ece(final)
    assert ece == 0.05 and where.endswith("metrics.json: models.more.average.ece")
    # the run's summary of several schemes: the entry named after the run folder
    (tmp_path / "more" / "metrics.json").unlink()
    write_metrics(tmp_path / "metrics.json", _metrics({"multitask": 0.2, "more": 0.07}))
    assert read_rm_ece(tmp_path / "more")[0] == 0.07
    write_metrics(tmp_path / "more" / "metrics.json", _metrics({"more": None}))
    assert read_rm_ece(final) is None  # no test source: computed instead
    (final / "metrics.json").write_text("{bad")
    with pytest.raises(ValueError, match="malformed"):
        read_rm_ece(final)


def test_compute_rm_ece_matches_metrics_on_reward_differences():
    import torch

    from applications.reward_models.data.simulator import PreferenceSimulator
    from applications.reward_models.evaluation.metrics import calibration_errors
    from applications.reward_models.modeling.scoring import score_texts

    model, tok = tiny_rm()
    sim = PreferenceSimulator(seed=0)
    by_source = {s: sim.pairs(s, 12, split="test") for s in ("shared", "noisy")}
    ece, per_source, skipped = compute_rm_ece(model, tok, by_source, max_length=256)
    for source, pairs in by_source.items():
        prompts = [p.prompt for p in pairs]
        rc = score_texts(model, tok, prompts, [p.chosen for p in pairs], max_length=256)
        rr = score_texts(model, tok, prompts, [p.rejected for p in pairs], max_length=256)
        ref = calibration_errors(torch.tensor([c - r for c, r in zip(rc, rr, strict=True)])).ece
        # Both paths batch differently (pairs vs single responses), so BLAS rounding differs.
        assert per_source[source] == pytest.approx(ref, rel=1e-4, abs=1e-9)
    assert skipped == 0 and ece == pytest.approx(sum(per_source.values()) / 2)


def _rows():
    return [
        Table2Row("base", ppl={"helpful": 12.345, "harmless": 20.0}),
        Table2Row(
            "rjs[more]",
            rm_scheme="more",
            ece=0.0123,
            ppl={"helpful": 11.0, "harmless": 19.5},
            win_tie_lose={
                "win": 3,
                "tie": 1,
                "lose": 0,
                "n": 4,
                "rates": {"win": 0.75, "tie": 0.25, "lose": 0.0},
            },
        ),
    ]


def test_markdown_table2_layout():
    md = render_markdown(
        _rows(), judge="gold", sources=["helpful", "harmless"], ece_sources={"helpful": "shared"}
    )
    lines = md.splitlines()
    assert lines[0] == (
        "| Policy | RM scheme | ECE ↓ | PPL helpful ↓ | PPL harmless ↓ | Win ↑ | Tie | Lose ↓ "
        "| Win − lose ↑ |"
    )
    assert lines[2] == "| base | — | — | 12.35 | 20.00 | — | — | — | — |"
    # Wilson 95 %: 3/4 → [30.1, 95.4], 1/4 → [4.6, 69.9], 0/4 → [0.0, 49.0] (scipy binomtest).
    assert lines[3] == (
        "| rjs[more] | more | 0.0123 | 11.00 | 19.50 | 75.0 [30.1, 95.4] | 25.0 [4.6, 69.9] "
        "| 0.0 [0.0, 49.0] | 75.0 [25.0, 100.0] |"
    )
    assert "on 4 prompts, judge `gold`" in md and "Wilson" in md
    assert "Helpful and Harmless: helpful = `shared`." in md


def _more_vs_multitask():
    from applications.reward_models.rjs.judge import WinTieLose

    return {
        "candidate": "rjs[more]",
        "baseline": "rjs[multitask]",
        **WinTieLose(44, 22, 34).to_dict(),
    }


def test_head_to_head_section():
    from applications.reward_models.rjs.report import render_head_to_head

    assert render_head_to_head([], "gold") == ""
    md = render_head_to_head([_more_vs_multitask()], "gold")
    lines = md.splitlines()
    assert lines[0] == "## Head to head"
    assert lines[2] == "| Candidate | Baseline | n | Win ↑ | Tie | Lose ↓ | Win − lose ↑ |"
    assert lines[4].startswith(
        "| rjs[more] | rjs[multitask] | 100 | 44.0 [34.7, 53.8] | 22.0 [15.0, 31.1] "
        "| 34.0 [25.5, 43.7] | 10.0 ["
    )


def test_write_report_markdown_and_json(tmp_path):
    md, js = write_report(
        _rows(),
        tmp_path,
        judge="gold",
        extra={"note": "x"},
        head_to_head=[_more_vs_multitask()],
        ece_sources={"helpful": "shared", "harmless": "shared"},
    )
    data = json.loads(js.read_text())
    assert data["judge"] == "gold" and data["note"] == "x"
    assert data["rows"][1]["win_tie_lose"]["win"] == 3 and data["rows"][0]["ece"] is None
    assert data["head_to_head"][0]["ci"]["win"]["low"] == pytest.approx(0.34672, abs=1e-5)
    assert data["ece_sources"] == {"helpful": "shared", "harmless": "shared"}
    text = md.read_text()
    assert "| rjs[more] |" in text and "## Head to head" in text


def test_role_ece_is_the_mean_over_helpful_and_harmless(tmp_path):
    from applications.reward_models.evaluation.schema import metrics_document, write_metrics
    from applications.reward_models.rjs.rm_calibration import read_rm_role_ece, role_ece

    per_source = {"hh_helpful": 0.02, "hh_harmless": 0.04, "webgpt": 0.9}
    roles = {"helpful": "hh_helpful", "harmless": "hh_harmless"}
    ece, detail = role_ece(per_source, roles)
    assert ece == pytest.approx(0.03)  # webgpt is not part of the paper's RJS-table ECE
    assert detail["harmless"] == {"source": "hh_harmless", "ece": 0.04}
    assert role_ece(per_source, {"helpful": "oasst1"}) is None
    with pytest.raises(ValueError, match="no test source"):
        role_ece(per_source, {})

    final = tmp_path / "more" / "final"
    final.mkdir(parents=True)
    assert read_rm_role_ece(final, roles) is None
    sources = {s: {"ece": e} for s, e in per_source.items()}
    entry = {"sources": sources, "average": {"ece": 0.32}}
    write_metrics(tmp_path / "more" / "metrics.json", metrics_document({"more": entry}))
    ece, where, _ = read_rm_role_ece(final, roles)
    assert ece == pytest.approx(0.03) and where.endswith("metrics.json: models.more.sources")
    assert read_rm_role_ece(final, {"helpful": "summarize"}) is None  # computed instead


def test_ece_roles_default_and_explicit():
    from applications.reward_models.rjs.config import RJSConfig

    assert RJSConfig().ece_roles() == {"helpful": "shared", "harmless": "shared"}
    real = RJSConfig(prompt_source="hh_helpful")
    assert real.ece_roles() == {"helpful": "hh_helpful", "harmless": "hh_harmless"}
    assert RJSConfig(ece_sources=["helpful=noisy"]).ece_roles() == {"helpful": "noisy"}
    with pytest.raises(ValueError, match="--ece_sources entries must be ROLE=SOURCE"):
        RJSConfig(ece_sources=["noisy"]).ece_roles()
    with pytest.raises(ValueError, match="given twice"):
        RJSConfig(ece_sources=["a=x", "a=y"]).ece_roles()
