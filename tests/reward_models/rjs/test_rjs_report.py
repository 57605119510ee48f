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
    from applications.reward_models.rjs.score import score_texts

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
    md = render_markdown(_rows(), judge="gold", sources=["helpful", "harmless"])
    lines = md.splitlines()
    assert (
        lines[0]
        == "| Policy | RM scheme | ECE ↓ | PPL helpful ↓ | PPL harmless ↓ | Win ↑ | Tie | Lose ↓ |"
    )
    assert lines[2] == "| base | — | — | 12.35 | 20.00 | — | — | — |"
    assert lines[3] == "| rjs[more] | more | 0.0123 | 11.00 | 19.50 | 75.0 | 25.0 | 0.0 |"
    assert "on 4 prompts, judge `gold`" in md


def test_write_report_markdown_and_json(tmp_path):
    md, js = write_report(_rows(), tmp_path, judge="gold", extra={"note": "x"})
    data = json.loads(js.read_text())
    assert data["judge"] == "gold" and data["note"] == "x"
    assert data["rows"][1]["win_tie_lose"]["win"] == 3 and data["rows"][0]["ece"] is None
    assert "| rjs[more] |" in md.read_text()
