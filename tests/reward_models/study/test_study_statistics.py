"""The study's statistics: crossed paired bootstrap, basic intervals, Holm, verdicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.reward_models.evaluation.metrics import calibration_errors, truth_calibration
from applications.reward_models.study.crossed import Panel, bin_contributions, crossed_bootstrap
from applications.reward_models.study.verdicts import (
    basic_interval,
    holm,
    judge,
    p_value,
    verdict,
)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(1, 20), st.integers(0, 2**31 - 1))
def test_bin_contributions_give_the_metrics_ece(n: int, bins: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    d, t = rng.normal(0, 3, n), rng.random(n)
    g = bin_contributions(d, bins)
    assert np.abs(g.sum(0)).sum() / (2 * n) == pytest.approx(
        calibration_errors(torch.from_numpy(d), n_bins=bins).ece, abs=1e-12
    )
    gold = bin_contributions(d, bins, t)
    assert np.abs(gold.sum(0)).sum() / (2 * n) == pytest.approx(
        truth_calibration(torch.from_numpy(d), torch.from_numpy(t), bins).ece, abs=1e-12
    )


def _panel(rng, variants=2, seeds=3, data_seeds=2, n=40) -> Panel:
    diffs = [[rng.normal(0, 2, (variants, seeds, n)) for _ in range(2)] for _ in range(data_seeds)]
    temps = [rng.uniform(0.5, 2, (variants, seeds)) for _ in range(data_seeds)]
    truth = [[rng.random(n), rng.random(n)] for _ in range(data_seeds)]
    return Panel(tuple(f"v{i}" for i in range(variants)), diffs, temps, truth)


def test_estimates_are_the_mean_of_per_source_metrics() -> None:
    rng = np.random.default_rng(0)
    panel = _panel(rng)
    est = crossed_bootstrap(panel, n_boot=4).estimate
    ece = np.mean([[calibration_errors(torch.from_numpy(x[1, t])).ece for t in range(3)]
                   for by_source in panel.diffs for x in by_source])  # fmt: skip
    assert est["ece"][1] == pytest.approx(ece)
    pooled = np.mean([
        calibration_errors(torch.from_numpy(np.concatenate([x[0, t] for x in by_source]))).ece
        for by_source in panel.diffs for t in range(3)
    ])  # fmt: skip
    assert est["ece_pooled"][0] == pytest.approx(pooled)
    temps = panel.temperatures
    scaled = np.mean([calibration_errors(torch.from_numpy(x[0, t] / temps[d][0, t])).ece
                      for d, by_source in enumerate(panel.diffs) for x in by_source
                      for t in range(3)])  # fmt: skip
    assert est["ece_scaled"][0] == pytest.approx(scaled)


def test_identical_variants_differ_by_zero_in_every_replicate() -> None:
    """Paired: one pair resample and one seed resample per replicate, shared by all variants."""
    rng = np.random.default_rng(1)
    panel = _panel(rng)
    same = [[np.concatenate([x[:1], x[:1]]) for x in by_source] for by_source in panel.diffs]
    temps = [np.concatenate([t[:1], t[:1]]) for t in panel.temperatures]
    reps = crossed_bootstrap(Panel(panel.variants, same, temps, panel.true_prob), n_boot=50)
    for metric, values in reps.replicates.items():
        assert np.allclose(values[:, 0], values[:, 1], rtol=0, atol=1e-12), metric


def test_the_pair_resample_is_shared_across_training_seeds() -> None:
    """Seeds that are copies of one model leave the replicates as if there were one seed: the
    pair noise is drawn once per data seed and source, not once per seed."""
    rng = np.random.default_rng(2)
    panel = _panel(rng, seeds=1, data_seeds=1)
    copies = [[np.repeat(x, 4, axis=1) for x in by_source] for by_source in panel.diffs]
    temps = [np.repeat(t, 4, axis=1) for t in panel.temperatures]
    wide = crossed_bootstrap(Panel(panel.variants, copies, temps, panel.true_prob), n_boot=300)
    one = crossed_bootstrap(panel, n_boot=300)
    # Independent pair draws per seed would shrink the spread by about 1/2 (4 seeds).
    ratio = wide.replicates["ece"].std(0) / one.replicates["ece"].std(0)
    assert np.all((ratio > 0.8) & (ratio < 1.25)), ratio


def _draw(rng, n):
    d = rng.normal(0, 1.5, n)
    sign = np.where(rng.random(n) < 1 / (1 + np.exp(-d)), 1.0, -1.0)
    return d * sign, 1.8 * d * sign  # calibrated, over-confident


def test_basic_interval_covers_a_known_delta_ece_near_the_nominal_rate() -> None:
    """Toy with a known ΔECE (calibrated vs over-confident model, population ΔECE from 2·10⁶
    pairs): the plug-in Δ is shrunk toward 0 (the calibrated model's ECE is biased up), the
    percentile interval inherits it, the basic interval reflects it back. Measured here: basic
    ≈ 0.85, percentile ≈ 0.5 at N = 500 (nominal 0.95)."""
    rng = np.random.default_rng(1)
    a, b = _draw(rng, 2_000_000)

    def ece(x):
        return np.abs(bin_contributions(x, 10).sum(0)).sum() / (2 * x.size)

    true = ece(a) - ece(b)
    basic = percentile = 0
    sims = 60
    for i in range(sims):
        a, b = _draw(rng, 500)
        panel = Panel(("a", "b"), [[np.stack([a[None], b[None]])]], [np.ones((2, 1))], [[None]])
        r = crossed_bootstrap(panel, n_boot=200, seed=i)
        reps = r.replicates["ece"][:, 0] - r.replicates["ece"][:, 1]
        ci = basic_interval(r.estimate["ece"][0] - r.estimate["ece"][1], reps)
        basic += ci.low <= true <= ci.high
        lo, hi = np.quantile(reps, [0.025, 0.975])
        percentile += lo <= true <= hi
    assert basic / sims >= 0.75
    assert basic > percentile


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_matches_the_step_down_procedure(p: list[float]) -> None:
    adjusted = holm(p)
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    for alpha in (0.01, 0.05, 0.2):
        rejected = set()
        for rank, i in enumerate(order):  # reject while p_(k) <= alpha / (m - k)
            if p[i] * (m - rank) > alpha:
                break
            rejected.add(i)
        assert {i for i in range(m) if adjusted[i] <= alpha} == rejected
    assert all(a >= q - 1e-15 and a <= 1 for a, q in zip(adjusted, p, strict=True))


def test_holm_known_answer() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


@pytest.mark.parametrize(
    ("low", "high", "word"),
    [(-0.003, 0.004, "equivalent"), (-0.004, -0.001, "equivalent"), (-0.02, -0.001, "better"),
     (0.001, 0.02, "worse"), (-0.02, 0.01, "inconclusive"), (-0.006, 0.001, "inconclusive")],
)  # fmt: skip
def test_verdict_words(low: float, high: float, word: str) -> None:
    assert verdict(low, high, margin=0.005) == word


def test_p_value_agrees_with_the_basic_interval() -> None:
    rng = np.random.default_rng(3)
    for shift in (-0.5, -0.1, 0.0, 0.05, 0.3):
        reps = rng.normal(shift, 0.1, 2000)
        estimate = shift
        ci = basic_interval(estimate, reps, 0.95)
        p = p_value(estimate, reps)
        excludes = not (ci.low <= 0 <= ci.high)
        if abs(p - 0.05) > 0.01:
            assert excludes == (p < 0.05), (shift, p, ci)


def test_judge_uses_holm_for_secondaries_only() -> None:
    rng = np.random.default_rng(4)
    deltas = {
        "a - b": (-0.03, rng.normal(-0.03, 0.01, 1000)),
        "c - b": (-0.03, rng.normal(-0.03, 0.012, 1000)),
        "d - b": (0.0, rng.normal(0.0, 0.001, 1000)),
    }
    out = judge(deltas, ["a - b"], margin=0.005)
    assert out["a - b"]["role"] == "primary" and out["a - b"]["p_holm"] is None
    assert out["a - b"]["verdict"] == "better"
    assert out["c - b"]["verdict"] == "better" and out["c - b"]["p_holm"] < 0.05
    assert out["d - b"]["verdict"] == "equivalent"
