"""Tests for evaluation.metrics: hand-computed cases, properties, torchmetrics."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from applications.reward_models.evaluation.metrics import (
    calibration_errors,
    per_source_accuracy,
    preference_accuracy,
    reward_difference_stats,
    summarize,
    symmetrize,
    truth_calibration,
)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


diffs = st.lists(
    st.floats(-30, 30, allow_nan=False, allow_infinity=False), min_size=1, max_size=60
).map(lambda xs: torch.tensor(xs, dtype=torch.float64))


# ----------------------------------------------------------------------------- accuracy


def test_accuracy_counts_ties_as_half():
    res = preference_accuracy(torch.tensor([1.0, -2.0, 0.0, 3.0]))
    assert res.n == 4
    assert res.ties == 1
    assert res.accuracy == pytest.approx((2 + 0.5) / 4)


def test_accuracy_of_constant_model_is_half():
    assert preference_accuracy(torch.zeros(7)).accuracy == 0.5


def test_per_source_accuracy_splits_by_name():
    res = per_source_accuracy(torch.tensor([1.0, -1.0, 1.0, 1.0]), ["a", "b", "a", "b"])
    assert res["a"].accuracy == 1.0
    assert res["b"].accuracy == 0.5
    with pytest.raises(ValueError, match="source names"):
        per_source_accuracy(torch.tensor([1.0]), ["a", "b"])


@pytest.mark.parametrize(
    "bad, err",
    [([], ValueError), ([[1.0]], ValueError), ([float("nan")], ValueError), ([True], TypeError)],
)
def test_invalid_inputs_raise(bad, err):
    with pytest.raises(err):
        preference_accuracy(torch.tensor(bad))


# ----------------------------------------------------------------------------- ECE: hand cases


def test_ece_hand_computed_overconfident():
    # One pair at p = 0.75 and one at p = 0.25. Points: (.75,1) (.25,0) (.25,1) (.75,0).
    # Bin [0.7,0.8): Σp = 1.5, Σy = 1 -> 0.5 ; bin [0.2,0.3): Σp = 0.5, Σy = 1 -> 0.5.
    res = calibration_errors(torch.tensor([logit(0.75), logit(0.25)]))
    assert res.ece == pytest.approx(1.0 / 4)
    assert res.ace == pytest.approx(0.25)
    assert res.mce == pytest.approx(0.25)
    assert res.bin_counts == [0, 0, 2, 0, 0, 0, 0, 2, 0, 0]
    assert res.bin_accuracy[7] == pytest.approx(0.5)
    assert res.bin_confidence[7] == pytest.approx(0.75)
    assert math.isnan(res.bin_accuracy[0])
    # The trap: binning only (p, 1) would give mean(1 - p) = 0.5.
    assert res.ece != pytest.approx(0.5)


def test_ece_hand_computed_perfectly_calibrated():
    # Three pairs right at p = 0.75, one wrong (p = 0.25): empirical frequency matches 0.75.
    d = torch.tensor([logit(0.75)] * 3 + [logit(0.25)], dtype=torch.float64)
    res = calibration_errors(d)
    assert res.ece == pytest.approx(0.0, abs=1e-12)
    assert res.mce == pytest.approx(0.0, abs=1e-12)
    # mean(1 - p) = 0.375: the wrong one-ordering "ECE" is far from 0.
    one_sided = float((1 - torch.sigmoid(d)).mean())
    assert one_sided == pytest.approx(0.375)


def test_ece_uneven_bins_hand_computed():
    # p = 0.9 (right), 0.65 (right), 0.35 (wrong).
    d = torch.tensor([logit(0.9), logit(0.65), logit(0.35)], dtype=torch.float64)
    res = calibration_errors(d, n_bins=5)
    # Points: (.9,1) (.65,1) (.35,1) (.1,0) (.35,0) (.65,0). Bins of width .2:
    # [0,.2): (.1,0) -> |.1-0| = .1 ; [.2,.4): (.35,1),(.35,0) -> |.7-1| = .3 ;
    # [.6,.8): (.65,1),(.65,0) -> |1.3-1| = .3 ; [.8,1]: (.9,1) -> .1.   ECE = .8 / 6.
    assert res.ece == pytest.approx(0.8 / 6)
    assert res.bin_counts == [1, 2, 0, 2, 1]
    assert res.ace == pytest.approx((0.1 + 0.15 + 0.15 + 0.1) / 4)
    assert res.mce == pytest.approx(0.15)


def test_brier_and_log_loss():
    d = torch.tensor([0.0, logit(0.8)])
    res = calibration_errors(d)
    assert res.brier == pytest.approx((0.25 + 0.04) / 2)
    assert res.log_loss == pytest.approx((math.log(2) - math.log(0.8)) / 2)


def test_last_bin_is_closed_at_one():
    res = calibration_errors(torch.tensor([1e6]))  # p == 1.0 exactly in float64
    assert res.bin_counts[-1] == 1 and res.bin_counts[0] == 1
    assert res.ece == pytest.approx(0.0)


def test_bad_bins_raise():
    with pytest.raises(ValueError, match="n_bins"):
        calibration_errors(torch.tensor([1.0]), n_bins=0)
    with pytest.raises(ValueError, match="binning"):
        calibration_errors(torch.tensor([1.0]), binning="quantile")


def test_equal_mass_bins_are_balanced():
    d = torch.linspace(-3, 3, 50, dtype=torch.float64)
    res = calibration_errors(d, n_bins=10, binning="mass")
    assert sum(res.bin_counts) == 100
    assert max(res.bin_counts) - min(res.bin_counts) <= 1
    assert res.bin_edges[0] == 0.0 and res.bin_edges[-1] == 1.0


# ----------------------------------------------------------------------------- ECE: properties


@given(diffs, st.sampled_from([5, 10, 20]), st.sampled_from(["width", "mass"]))
def test_ece_in_unit_interval_and_ordered(d, m, binning):
    res = calibration_errors(d, n_bins=m, binning=binning)
    assert 0.0 <= res.ece <= 1.0
    assert 0.0 <= res.ace <= res.mce + 1e-12 <= 1.0 + 1e-12
    assert res.ece <= res.mce + 1e-12
    assert sum(res.bin_counts) == 2 * d.numel()


def _reference_ece(p_first: torch.Tensor, y_first: torch.Tensor, m: int) -> float:
    """Straightforward loop: both orderings of each (first, second) presentation, M bins."""
    pts = [(float(p), float(y)) for p, y in zip(p_first, y_first, strict=True)]
    pts += [(1.0 - p, 1.0 - y) for p, y in pts]
    sums = {}
    for p, y in pts:
        k = min(int(p * m), m - 1)
        sp, sy = sums.get(k, (0.0, 0.0))
        sums[k] = (sp + p, sy + y)
    return sum(abs(sp - sy) for sp, sy in sums.values()) / len(pts)


@given(diffs, st.sampled_from([5, 10, 20]), st.integers(0, 2**31 - 1))
def test_ece_invariant_to_swapping_chosen_and_rejected(d, m, seed):
    # Present each pair in a random order (first, second) with label "first wins":
    # the ECE must not depend on which response was shown first.
    d = d.clamp(-8, 8)
    swap = torch.rand(d.numel(), generator=torch.Generator().manual_seed(seed)) < 0.5
    p_first = torch.where(swap, torch.sigmoid(-d), torch.sigmoid(d))
    y_first = torch.where(swap, 0.0, 1.0).double()
    ref = _reference_ece(p_first, y_first, m)
    ref_plain = _reference_ece(torch.sigmoid(d), torch.ones_like(d), m)
    # Exact bin boundaries can differ by one ulp between the loop and bucketize; skip those.
    on_edge = ((torch.sigmoid(d) * m) - (torch.sigmoid(d) * m).round()).abs() < 1e-9
    if bool(on_edge.any()):
        return
    assert calibration_errors(d, n_bins=m).ece == pytest.approx(ref, abs=1e-9)
    assert ref == pytest.approx(ref_plain, abs=1e-9)


@given(diffs)
def test_ece_invariant_to_pair_order(d):
    perm = torch.randperm(d.numel(), generator=torch.Generator().manual_seed(0))
    assert calibration_errors(d).ece == pytest.approx(calibration_errors(d[perm]).ece, abs=1e-12)


@given(st.integers(0, 2**31 - 1))
def test_perfect_calibration_gives_small_ece(seed):
    # Labels drawn from the model's own probabilities: ECE -> 0 as N grows.
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(20000, generator=g, dtype=torch.float64) * 2
    flip = torch.rand(20000, generator=g, dtype=torch.float64) > torch.sigmoid(d)
    d = torch.where(flip, -d, d)  # the "chosen" one wins with probability σ(d)
    assert calibration_errors(d).ece < 0.03


@given(diffs, st.sampled_from([5, 10, 20]))
def test_matches_torchmetrics_on_symmetrized_points(d, m):
    tm = pytest.importorskip("torchmetrics.functional.classification")
    d = d.clamp(-30, 30)  # float64 σ stays < 1, where torchmetrics' extra bin would differ
    p, y = symmetrize(d)
    ours = calibration_errors(d, n_bins=m)
    ref = tm.binary_calibration_error(p, y.long(), n_bins=m, norm="l1")
    ref_max = tm.binary_calibration_error(p, y.long(), n_bins=m, norm="max")
    assert ours.ece == pytest.approx(float(ref), abs=1e-9)
    assert ours.mce == pytest.approx(float(ref_max), abs=1e-9)


# ----------------------------------------------------------------------------- truth, stats


def test_truth_calibration_exact_and_off():
    t = torch.tensor([0.9, 0.3, 0.5], dtype=torch.float64)
    d = torch.log(t / (1 - t))
    exact = truth_calibration(d, t)
    assert exact.ece == pytest.approx(0.0, abs=1e-12)
    assert exact.mae == pytest.approx(0.0, abs=1e-12)
    assert exact.kl == pytest.approx(0.0, abs=1e-12)
    off = truth_calibration(torch.zeros(3), t)  # always p = 0.5
    assert off.mae == pytest.approx((0.4 + 0.2 + 0.0) / 3)
    # All points in bin [.5,.6): Σp = 3, Σt = 0.9+0.3+0.5+0.1+0.7+0.5 = 3 -> binned ECE hides it.
    assert off.ece == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        truth_calibration(torch.zeros(1), torch.tensor([1.5]))
    with pytest.raises(ValueError, match="shape"):
        truth_calibration(torch.zeros(2), torch.tensor([0.5]))


def test_reward_difference_stats_outliers():
    d = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 100.0, -50.0, -60.0])
    s = reward_difference_stats(d, thresholds=(2.5,))
    q1, med, q3 = torch.quantile(d.double(), torch.tensor([0.25, 0.5, 0.75]).double()).tolist()
    assert (s.q1, s.median, s.q3) == pytest.approx((q1, med, q3))
    iqr = q3 - q1
    pos = d[d > q3 + 1.5 * iqr]
    neg = d[d < q1 - 1.5 * iqr]
    assert s.n_pos_outliers == pos.numel() == 1
    assert s.mean_pos_outliers == pytest.approx(100.0)
    assert s.n_neg_outliers == neg.numel()
    assert s.mean_abs == pytest.approx(float(d.abs().mean()))
    assert s.share_abs_above["2.5"] == pytest.approx(6 / 8)


def test_reward_difference_stats_no_outliers_mean_is_none():
    s = reward_difference_stats(torch.tensor([1.0, 2.0, 3.0]))
    assert s.n_pos_outliers == 0 and s.mean_pos_outliers is None


def test_summarize_is_json_ready():
    d = torch.tensor([0.5, -1.0, 2.0, 0.0])
    out = summarize(d, true_prob=torch.tensor([0.6, 0.4, 0.9, 0.5]))
    text = json.dumps(out, allow_nan=False)
    back = json.loads(text)
    assert back["ece"] == pytest.approx(calibration_errors(d).ece)
    assert set(back["calibration"]) == {"5", "10", "20"}
    assert "truth" in back and back["ties"] == 1
