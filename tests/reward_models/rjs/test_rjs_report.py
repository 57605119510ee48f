from __future__ import annotations

import json

import pytest
from rjs_helpers import tiny_rm

from applications.reward_models.rjs.report import Table2Row, render_markdown, write_report
from applications.reward_models.rjs.rm_calibration import compute_rm_ece, find_ece, read_rm_ece


@pytest.mark.parametrize(
    ("metrics", "ece"),
    [
        ({"ece": 0.1}, 0.1),
        ({"test": {"ece": 0.2, "accuracy": 0.7}}, 0.2),
        ({"test": {"a": {"ece": 0.5}, "overall": {"ece": 0.3}}}, 0.3),
        # the training CLI's layout: per-source test metrics -> unweighted mean over sources
        ({"scheme": "more", "test": {"a": {"ece": 0.1, "n": 5}, "b": {"ece": 0.3, "n": 50}}}, 0.2),
        ({"test": {"a": {"accuracy": 0.7}}}, None),
        ({"ece": float("nan")}, None),
        ({"ece": True}, None),
        ([1, 2], None),
    ],
)
def test_find_ece(metrics, ece):
    found = find_ece(metrics)
    if ece is None:
        assert found is None
    else:
        assert found[0] == pytest.approx(ece)


def test_read_rm_ece_looks_next_to_the_checkpoint(tmp_path):
    final = tmp_path / "more" / "final"
    final.mkdir(parents=True)
    assert read_rm_ece(final) is None
    (tmp_path / "more" / "metrics.json").write_text(json.dumps({"test": {"ece": 0.05}}))
    ece, where = read_rm_ece(final)
    assert ece == 0.05 and where.endswith("metrics.json: test.ece")
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
