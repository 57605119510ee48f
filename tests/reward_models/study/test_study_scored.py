"""λ statistics and curve points of the study (pure functions, known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.evaluation.metrics import calibration_errors
from applications.reward_models.study.scored import STARVED, curve_point, weight_summary


def test_weight_summary_known_answers() -> None:
    weights = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    shares = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])
    out = weight_summary(weights, shares, ["a", "b"])
    assert out["mean"] == {"a": 0.625, "b": 0.375}
    assert out["std"]["a"] == pytest.approx(np.std([1, 0, 0.5, 1]))
    # |Δλ| over steps: 1, 0.5, 0.5 → mean 2/3 (λ jumping between sources is visible here)
    assert out["mean_abs_change"]["a"] == pytest.approx(2 / 3)
    assert out["effective_weight"] == pytest.approx({"a": 0.65, "b": 0.35})
    assert out["starved_fraction"] == {"a": 0.25, "b": 0.5}
    assert STARVED == 0.01
    assert "effective_weight" not in weight_summary(weights, None, ["a", "b"])
    with pytest.raises(ValueError, match="sources"):
        weight_summary(weights, shares, ["a"])


def test_curve_point_matches_the_metrics() -> None:
    rng = np.random.default_rng(0)
    diffs = rng.normal(0, 2, 50)
    pairs = [PreferencePair("p", "c", "r", "s", true_prob=0.7) for _ in range(50)]
    point = curve_point(7, diffs, pairs)
    assert point["step"] == 7
    assert point["ece"] == pytest.approx(calibration_errors(diffs.tolist()).ece)
    assert point["accuracy"] == pytest.approx(np.mean(diffs > 0))
    assert point["mean_abs_diff"] == pytest.approx(np.abs(diffs).mean())
    assert point["gold_ece"] is not None
    real = [PreferencePair("p", "c", "r", "s") for _ in range(50)]
    assert curve_point(7, diffs, real)["gold_ece"] is None
