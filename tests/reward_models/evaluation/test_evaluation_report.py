"""Tests for applications.reward_models.evaluation.report: Table 3 layout, mean ± std over seeds."""

from __future__ import annotations

import pytest

from applications.reward_models.evaluation import report


def _result(acc_a: float, acc_b: float, ece: float) -> dict:
    def src(acc: float) -> dict:
        return {
            "accuracy": acc,
            "ece": ece,
            "ace": ece,
            "mce": ece,
            "brier": 0.2,
            "log_loss": 0.6,
            "calibration": {"10": {"ece": ece}},
            "calibration_mass": {"ece": ece},
        }

    stats = {
        "q1": -1.0,
        "median": 0.5,
        "q3": 2.0,
        "n_pos_outliers": 3,
        "mean_pos_outliers": 9.0,
        "n_neg_outliers": 0,
        "mean_neg_outliers": None,
        "mean_abs": 1.5,
        "share_abs_above": {"5.0": 0.1},
    }
    return {
        "sources": {"a": {}, "b": {}},
        "models": {
            "M": {"sources": {"a": src(acc_a), "b": src(acc_b)}, "pooled": {"reward_diff": stats}}
        },
    }


def test_format_cell():
    assert report.format_cell([0.5]) == "0.500"
    assert report.format_cell([0.5, 0.7]) == "0.600 ± 0.100"
    assert report.format_cell([0.5, None]) == "0.500"
    assert report.format_cell([None]) == "–"
    assert report.format_cell([0.6123], digits=3, percent=True) == "61.2"


def test_accuracy_table_single_and_several_seeds():
    one = report.accuracy_table([_result(0.6, 0.8, 0.1)])
    assert "| Model | a | b | Avg | ECE |" in one
    assert "| M | 60.0 | 80.0 | 70.0 | 10.0 |" in one
    two = report.accuracy_table([_result(0.6, 0.8, 0.1), _result(0.8, 0.8, 0.3)])
    assert "| M | 70.0 ± 10.0 | 80.0 ± 0.0 | 75.0 ± 5.0 | 20.0 ± 10.0 |" in two


def test_other_tables_render():
    res = [_result(0.6, 0.8, 0.1)]
    cal = report.calibration_table(res)
    assert "ECE a" in cal and "truth ECE" not in cal
    rd = report.reward_diff_table(res)
    assert "| M | -1.00 | 0.50 | 2.00 | 3.0 | 9.00 | 0.0 | – |" in rd
    sw = report.sweep_table("K", [2, 3], {"MORE": [[0.1], [0.2, 0.4]]})
    assert "| 3 | 0.300 ± 0.100 |" in sw


def test_markdown_table_checks_width():
    with pytest.raises(ValueError, match="one cell per header"):
        report.markdown_table(["a", "b"], [["1"]])
    with pytest.raises(ValueError, match="no evaluation results"):
        report.accuracy_table([])
