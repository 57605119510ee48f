"""Wilson and bootstrap intervals of win / tie / lose counts against independent references."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from applications.reward_models.rjs.intervals import (
    bootstrap_win_minus_lose,
    outcome_intervals,
    wilson_interval,
)


def test_wilson_by_hand():
    # k = 5 of n = 10, z = 1.959964: centre 0.5, half-width z·sqrt(0.025 + z²/400) / (1 + z²/10).
    z = 1.959963984540054
    half = z * math.sqrt(0.25 / 10 + z * z / 400) / (1 + z * z / 10)
    ci = wilson_interval(5, 10)
    assert ci.estimate == 0.5 and ci.level == 0.95
    assert ci.low == pytest.approx(0.5 - half, abs=1e-12)
    assert ci.high == pytest.approx(0.5 + half, abs=1e-12)
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.2366, 0.7634)


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_scipy(case):
    k, n = case
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    ci = wilson_interval(k, n)
    assert ci.low == pytest.approx(float(ref.low), abs=1e-12)
    assert ci.high == pytest.approx(float(ref.high), abs=1e-12)
    assert 0 <= ci.low <= ci.estimate <= ci.high <= 1


def test_wilson_ends_and_other_levels():
    assert wilson_interval(0, 20).low == 0.0 and wilson_interval(20, 20).high == 1.0
    ref = binomtest(7, 30).proportion_ci(confidence_level=0.9, method="wilson")
    assert wilson_interval(7, 30, level=0.9).high == pytest.approx(float(ref.high), abs=1e-12)
    for args, match in [((0, 0), "at least one"), ((4, 3), r"in \[0, 3\]"), ((1, 3, 1.0), "level")]:
        with pytest.raises(ValueError, match=match):
            wilson_interval(*args)


def test_bootstrap_win_minus_lose_matches_the_normal_approximation():
    # The paper's 44 / 22 / 34 on 100 prompts: win − lose = 0.10 with
    # sd = sqrt((pw + pl − (pw − pl)²) / n) = 0.0872; the percentile bootstrap of 10 000 draws
    # sits within a point of ±1.96 sd.
    ci = bootstrap_win_minus_lose(44, 22, 34)
    sd = math.sqrt((0.44 + 0.34 - 0.1**2) / 100)
    assert ci.estimate == pytest.approx(0.10)
    assert ci.low == pytest.approx(0.10 - 1.96 * sd, abs=0.01)
    assert ci.high == pytest.approx(0.10 + 1.96 * sd, abs=0.01)
    assert bootstrap_win_minus_lose(44, 22, 34) == ci  # deterministic for a seed
    assert bootstrap_win_minus_lose(44, 22, 34, seed=1) != ci


def test_bootstrap_degenerate_and_bad_counts():
    all_ties = bootstrap_win_minus_lose(0, 9, 0)
    assert (all_ties.estimate, all_ties.low, all_ties.high) == (0.0, 0.0, 0.0)
    assert bootstrap_win_minus_lose(5, 0, 0).low == 1.0
    with pytest.raises(ValueError, match=">= 0"):
        bootstrap_win_minus_lose(-1, 2, 2)
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_win_minus_lose(0, 0, 0)
    with pytest.raises(ValueError, match="samples"):
        bootstrap_win_minus_lose(1, 1, 1, samples=0)


def test_outcome_intervals_has_every_rate():
    ci = outcome_intervals(3, 1, 0)
    assert set(ci) == {"win", "tie", "lose", "win_minus_lose"}
    assert ci["tie"] == wilson_interval(1, 4) and ci["lose"].low == 0.0
    assert ci["win_minus_lose"].estimate == 0.75
