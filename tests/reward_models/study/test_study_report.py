"""study.md from synthetic study dicts: new columns and sections, old study.json, verdicts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from applications.reward_models.study.analysis import compare, results
from applications.reward_models.study.report import (
    comparison_schemes,
    lower_scheme,
    markdown_report,
    verdict,
)
from applications.reward_models.study.training import Scored

SCHEMES = ("multitask", "more", "more[lr1e-3]")
NEW_KEYS = ("ece_by_bins", "noise_floor_by_bins", "table1", "reliability", "ace", "mce")


def _weights(seed: int) -> dict:
    return {
        "mean": {"a": 0.4 + 0.1 * seed, "b": 0.6 - 0.1 * seed},
        "std": {"a": 0.05, "b": 0.07},
        "effective_weight": {"a": 0.3, "b": 0.7},
        "starved_fraction": {"a": 0.0, "b": 0.25},
    }


@pytest.fixture(scope="module")
def study() -> dict:
    rng = np.random.default_rng(1)
    scores = {
        scheme: [
            {s: Scored(k * rng.normal(1, 2, 60), rng.normal(1, 2, 20), None) for s in ("a", "b")}
            for _ in range(2)
        ]
        for k, scheme in zip((3.0, 1.0, 1.2), SCHEMES, strict=True)
    }
    comparisons = {f"more-{b}": compare(scores, "more", b, n_boot=20) for b in SCHEMES[::2]}
    return json.loads(json.dumps({
        "config": {"n_bins": 10, "simulator": "domains", "max_steps": 3},
        "seeds": [0, 1], "schemes": list(SCHEMES), "sources": ["a", "b"],
        "results": results(scores, n_boot=20, n_sim=20), "comparisons": comparisons,
        "curves": {s: {"0": [{"step": 0, "ece": 0.1}]} for s in SCHEMES},
        "weights": {"more": {str(i): _weights(i) for i in range(2)}, "multitask": {}},
    }))  # fmt: skip


def test_new_columns_sections_and_links(study: dict) -> None:
    md = markdown_report(study, plots=["/out/plots/forest.png", "plots/ece_curves.png"])
    for text in ("ECE@5 (floor)", "ECE@10 (floor)", "ECE@20 (floor)", "Brier", "log loss"):
        assert text in md, text
    assert "![forest.png](plots/forest.png)" in md and "(plots/ece_curves.png)" in md
    assert "### Test set `a`" in md and "### Test set `all`" in md
    assert "## Source weights λ" in md
    assert "| more | b | 0.550 ± 0.050 | 0.070 ± 0.000 | 0.700 ± 0.000 | 0.250 ± 0.000 |" in md
    row = study["results"]["more"]["0"]["a"]
    floor = study["results"]["more"]["1"]["a"]["noise_floor_by_bins"]["5"]["mean"]
    mean_floor = (row["noise_floor_by_bins"]["5"]["mean"] + floor) / 2
    assert f"({mean_floor:.3f})" in md
    assert "- `more` vs `more[lr1e-3]`, `all`: ECE:" in md


def test_old_study_json_still_renders(study: dict) -> None:
    old = json.loads(json.dumps(study))
    for key in ("curves", "weights", "schemes"):
        del old[key]
    for seeds in old["results"].values():
        for rows in seeds.values():
            for row in rows.values():
                for key in NEW_KEYS:
                    del row[key]
    md = markdown_report(old)
    assert "## Comparisons" in md and "ECE@10 (floor)" in md and "ECE@5" not in md
    assert "Table 1" not in md and "Source weights" not in md and "## Figures" not in md
    ece = (old["results"]["more"]["0"]["a"]["ece"] + old["results"]["more"]["1"]["a"]["ece"]) / 2
    assert f"{ece:.3f} ±" in md


def _ci(low: float, high: float) -> dict[str, float]:
    return {"estimate": (low + high) / 2, "low": low, "high": high}


def test_lower_scheme_and_verdict() -> None:
    assert lower_scheme(_ci(-0.2, -0.01), "more", "multitask") == "more"
    assert lower_scheme(_ci(0.01, 0.2), "more", "multitask") == "multitask"
    assert lower_scheme(_ci(-0.1, 0.1), "more", "multitask") is None
    assert lower_scheme(_ci(0.0, 0.1), "more", "multitask") is None  # 0 on the edge: inside
    c = {"delta_ece_ci": _ci(-0.2, -0.1), "delta_accuracy_ci": _ci(-0.1, -0.05)}
    assert verdict(c, "more", "multitask") == "ECE: `more` lower; accuracy: `multitask` higher"
    c = {"delta_ece_ci": _ci(-0.2, 0.1), "delta_accuracy_ci": _ci(0.05, 0.1)}
    assert verdict(c, "more", "multitask") == "ECE: no difference; accuracy: `more` higher"


@given(st.floats(-1, 1), st.floats(0, 1))
def test_no_difference_iff_the_interval_contains_zero(low: float, width: float) -> None:
    ci = _ci(low, low + width)
    text = verdict({"delta_ece_ci": ci, "delta_accuracy_ci": ci}, "x", "y")
    contains = ci["low"] <= 0.0 <= ci["high"]
    assert (text == "ECE: no difference; accuracy: no difference") == contains


def test_comparison_names_with_dashes() -> None:
    assert comparison_schemes("more-more[lr1e-3]", SCHEMES) == ("more", "more[lr1e-3]")
    assert comparison_schemes("more-multitask", []) == ("more", "multitask")
