"""Noise floors and the paired hierarchical bootstrap, checked on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from applications.reward_models.evaluation.metrics import calibration_errors
from applications.reward_models.evaluation.uncertainty import (
    bootstrap,
    ece_contributions,
    noise_floor,
)


def calibrated(rng: np.random.Generator, n: int, scale: float = 2.0) -> np.ndarray:
    """Δ of a perfectly calibrated model: the chosen response won with probability σ(Δ)."""
    d = rng.normal(0.0, scale, n)
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-d))
    return np.where(won, d, -d)


@settings(max_examples=40, deadline=None)
@example(values=[-1.0], n_bins=10)  # p = σ(log 7/3) ≈ 0.7 sits on an edge: numpy's 0.7 + ε
@given(
    st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=60),
    st.sampled_from([1, 5, 10, 20]),
)
def test_contributions_reproduce_metrics_ece(values: list[float], n_bins: int) -> None:
    values = [*values, 0.0, np.log(0.7 / 0.3)]  # p exactly ½ and near an edge
    g = ece_contributions(values, n_bins)
    expected = calibration_errors(torch.tensor(values, dtype=torch.float64), n_bins=n_bins).ece
    assert np.abs(g.sum(axis=0)).sum() / (2 * len(values)) == pytest.approx(expected, abs=1e-12)


def test_calibrated_model_ece_falls_inside_its_noise_band() -> None:
    rng = np.random.default_rng(0)
    inside = 0
    for _ in range(40):
        d = calibrated(rng, 300)
        floor = noise_floor(d, n_sim=400, seed=1)
        inside += floor.low <= calibration_errors(torch.from_numpy(d)).ece <= floor.high
    assert inside >= 34  # 95 % band: ~38 expected, < 34 has probability < 1 %


def test_noise_floor_shrinks_like_one_over_root_n_and_flags_overconfidence() -> None:
    rng = np.random.default_rng(1)
    small, large = noise_floor(calibrated(rng, 100)), noise_floor(calibrated(rng, 2000))
    assert 0.04 < small.mean < 0.1 and 0.01 < large.mean < 0.025
    assert 3.0 < small.mean / large.mean < 6.0 and small.std > large.std
    over = 3.0 * calibrated(rng, 2000)
    floor = noise_floor(over)
    assert calibration_errors(torch.from_numpy(over)).ece > floor.high
    assert noise_floor(over, seed=5) == noise_floor(over, seed=5)


def test_identical_models_give_a_delta_interval_at_zero() -> None:
    rng = np.random.default_rng(2)
    seeds = [[d, d.copy()] for d in (calibrated(rng, 200) for _ in range(3))]
    b = bootstrap(seeds, n_boot=300)
    for ci in (b.delta_ece[0], b.delta_accuracy[0]):
        assert ci.estimate == 0.0 and ci.low == 0.0 and ci.high == 0.0 and ci.contains(0.0)


def test_equal_models_contain_zero_and_a_worse_model_does_not() -> None:
    rng = np.random.default_rng(3)
    truth = [calibrated(rng, 800) for _ in range(3)]
    twin = [np.where(rng.random(d.size) < 0.5, d, d * 1.02) for d in truth]
    b = bootstrap([[a, t, 4.0 * a] for a, t in zip(truth, twin, strict=True)], n_boot=500)
    assert b.delta_ece[0].contains(0.0)
    assert b.delta_ece[1].high < 0.0  # the calibrated model beats the over-confident one
    assert b.delta_accuracy[1].estimate == 0.0  # scaling Δ keeps the ranking


def test_accuracy_interval_matches_the_binomial_width() -> None:
    rng = np.random.default_rng(4)
    n = 2000
    d = np.where(rng.random(n) < 0.7, 1.0, -1.0)
    ci = bootstrap([[d]], n_boot=2000, seed=0).accuracy[0]
    se = np.sqrt(0.7 * 0.3 / n)
    assert ci.contains(0.7) and (ci.high - ci.low) == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_seed_variation_widens_the_interval() -> None:
    rng = np.random.default_rng(5)
    n = 1000
    same = [[np.where(rng.random(n) < 0.7, 1.0, -1.0)] for _ in range(4)]
    spread = [[np.where(rng.random(n) < q, 1.0, -1.0)] for q in (0.55, 0.65, 0.75, 0.85)]
    width = [(c.high - c.low) for c in (bootstrap(x).accuracy[0] for x in (same, spread))]
    assert width[1] > 3 * width[0]


def test_bootstrap_is_deterministic_and_validates() -> None:
    rng = np.random.default_rng(6)
    seeds = [[calibrated(rng, 50), calibrated(rng, 50)] for _ in range(2)]
    assert bootstrap(seeds, n_boot=50, seed=7) == bootstrap(seeds, n_boot=50, seed=7)
    assert bootstrap(seeds, n_boot=50, seed=7) != bootstrap(seeds, n_boot=50, seed=8)
    with pytest.raises(ValueError, match="at least one seed"):
        bootstrap([])
    with pytest.raises(ValueError, match="same test pairs"):
        bootstrap([[np.zeros(3), np.zeros(4)]])
    with pytest.raises(ValueError, match="finite"):
        noise_floor([np.nan])
