"""model_metrics' new keys: reliability bins, ECE / noise floor at 5/10/20 bins, Table 1."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from applications.reward_models.evaluation.metrics import calibration_errors
from applications.reward_models.evaluation.uncertainty import noise_floor
from applications.reward_models.study.analysis import REPORTED_BINS, model_metrics, results
from applications.reward_models.study.table1 import table1_stats
from applications.reward_models.study.training import Scored


def _scored(seed: int = 0, n: int = 200, scale: float = 3.0) -> Scored:
    rng = np.random.default_rng(seed)
    return Scored(rng.normal(0.5, scale, n), rng.normal(0.5, scale, 50), None)


@pytest.mark.parametrize("n_bins", [5, 10, 7])
def test_reliability_bins_reproduce_the_ece(n_bins: int) -> None:
    scored = _scored()
    row = model_metrics(scored, n_bins=n_bins, n_boot=20, n_sim=20)
    rel = row["reliability"]
    assert len(rel["count"]) == n_bins and sum(rel["count"]) == 2 * scored.test.size
    gaps = [
        c * abs(p - a)
        for c, p, a in zip(rel["count"], rel["confidence"], rel["accuracy"], strict=True)
        if c
    ]
    ece = calibration_errors(torch.from_numpy(scored.test), n_bins=n_bins).ece
    assert sum(gaps) / (2 * scored.test.size) == pytest.approx(ece, abs=1e-12)
    assert row["ece"] == pytest.approx(ece)


def test_empty_bins_are_null_and_json_safe() -> None:
    scored = Scored(np.full(10, 4.0), np.ones(5), None)  # two occupied bins only
    row = json.loads(json.dumps(model_metrics(scored, n_boot=10, n_sim=10)))
    rel = row["reliability"]
    assert rel["count"][0] == 10 and rel["count"][-1] == 10
    assert rel["accuracy"][5] is None and rel["confidence"][5] is None
    assert rel["accuracy"][-1] == 1.0


def test_ece_and_noise_floor_at_every_reported_bin_count() -> None:
    scored = _scored(1)
    row = model_metrics(scored, n_bins=10, n_boot=10, n_sim=30, seed=3)
    d = torch.from_numpy(scored.test)
    assert set(row["ece_by_bins"]) == {str(m) for m in REPORTED_BINS}
    for m in REPORTED_BINS:
        assert row["ece_by_bins"][str(m)] == pytest.approx(calibration_errors(d, m).ece)
        floor = noise_floor(scored.test, m, 30, 3)
        assert row["noise_floor_by_bins"][str(m)]["mean"] == pytest.approx(floor.mean)
    assert row["noise_floor"] == row["noise_floor_by_bins"]["10"]
    assert row["ace"] == pytest.approx(calibration_errors(d, 10).ace)
    assert row["mce"] == pytest.approx(calibration_errors(d, 10).mce)
    assert "7" in model_metrics(scored, n_bins=7, n_boot=10, n_sim=10)["ece_by_bins"]


def test_temperature_scaled_floor_uses_the_scaled_predictions() -> None:
    scored = _scored(2, scale=8.0)  # over-confident: T > 1
    row = model_metrics(scored, n_boot=10, n_sim=50, seed=1)
    t = row["temperature"]
    assert t > 1.0
    expected = noise_floor(scored.test / t, 10, 50, 1).mean
    assert row["noise_floor_temperature_scaled"]["mean"] == pytest.approx(expected)
    assert expected != pytest.approx(row["noise_floor"]["mean"])


def test_table1_per_source_and_pooled() -> None:
    a, b = _scored(3), _scored(4, scale=1.0)
    out = results({"more": [{"a": a, "b": b}]}, n_boot=10, n_sim=10)["more"]["0"]
    assert out["a"]["table1"] == table1_stats(a.test).to_dict()
    assert out["b"]["table1"] == table1_stats(b.test).to_dict()
    assert out["all"]["table1"]["n"] == a.test.size + b.test.size
