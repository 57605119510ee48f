"""Study figures from a synthetic study dict: written when the data is there, skipped if not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from applications.reward_models.study.analysis import compare, results
from applications.reward_models.study.plots import (
    curve_plots,
    forest_plot,
    pooled_reliability,
    reliability_plots,
    study_plots,
)
from applications.reward_models.study.training import Scored

SCHEMES = ("multitask", "more", "more[ema0.1]")


def _study(with_gold: bool = True) -> dict:
    rng = np.random.default_rng(0)
    scores = {
        scheme: [
            {s: Scored(k * rng.normal(1, 2, 80), rng.normal(1, 2, 20), None) for s in ("a", "b")}
            for _ in range(2)
        ]
        for k, scheme in zip((3.0, 1.0, 1.5), SCHEMES, strict=True)
    }
    curves = {
        scheme: {
            str(seed): [
                {"step": t, "ece": 0.1 / (1 + t) + 0.01 * seed, "accuracy": 0.6,
                 "gold_ece": 0.05 if with_gold else None, "mean_abs_diff": 1.0 + t}
                for t in (0, 5, 10)
            ]
            for seed in range(2)
        }
        for scheme in SCHEMES
    }  # fmt: skip
    study = {
        "schemes": list(SCHEMES),
        "sources": ["a", "b"],
        "results": results(scores, n_boot=20, n_sim=20),
        "comparisons": {
            f"more-{b}": compare(scores, "more", b, n_boot=20) for b in SCHEMES if b != "more"
        },
        "curves": curves,
    }
    return json.loads(json.dumps(study))


@pytest.fixture(scope="module")
def study() -> dict:
    return _study()


def test_every_plot_is_written(study: dict, tmp_path) -> None:
    paths = study_plots(study, str(tmp_path / "plots"))
    names = sorted(p.rsplit("/", 1)[-1] for p in paths)
    assert names == ["ece_curves.png", "forest.png", "reliability.png"]
    for p in paths:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plots_are_skipped_without_data(study: dict, tmp_path) -> None:
    old = {k: v for k, v in study.items() if k != "curves"}
    assert curve_plots(old, str(tmp_path)) == []
    assert forest_plot({**old, "comparisons": {}}, str(tmp_path)) == []
    no_bins = {s: {seed: {"all": {"ece": 0.1}} for seed in "01"} for s in SCHEMES}
    assert reliability_plots({"results": no_bins}, str(tmp_path)) == []
    assert study_plots({}, str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []
    assert [p.endswith("reliability.png") for p in study_plots(old, str(tmp_path))] == [
        True,
        False,
    ]


def test_curves_without_gold_ece(tmp_path) -> None:
    assert len(curve_plots(_study(with_gold=False), str(tmp_path))) == 1


def test_pooled_reliability_is_the_reliability_of_all_points(study: dict) -> None:
    rows = [study["results"]["more"][seed]["all"] for seed in ("0", "1")]
    cal = pooled_reliability(rows)
    assert cal is not None
    assert sum(cal["bin_counts"]) == sum(r["n"] for r in rows) * 2
    one = pooled_reliability(rows[:1])
    assert one is not None and one["ece"] == pytest.approx(rows[0]["ece"])
    assert len(cal["bin_edges"]) == len(cal["bin_counts"]) + 1
    assert pooled_reliability([{"ece": 0.1}]) is None
