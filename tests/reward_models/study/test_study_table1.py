"""Table-1 statistics of Δr (per-sign box-plot outliers) on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.reward_models.study.table1 import sign_outliers, table1_stats

D = [1.0, 2.0, 3.0, 4.0, 100.0, -1.0, -1.0, -1.0, -1.0, -9.0, 0.0]


def test_known_answers_with_box_plot_fences() -> None:
    s = table1_stats(D)
    assert s.n == 11 and s.ties == 1
    assert s.share_positive == pytest.approx(5 / 11)
    assert s.mean == pytest.approx(97 / 11)
    assert s.std == pytest.approx(np.std(D))
    assert s.median == 0.0 and s.mean_abs == pytest.approx(123 / 11)
    # positives |Δr| = 1..4, 100: q1 = 2, q3 = 4, fence 4 + 1.5·2 = 7 -> only 100
    assert (s.positive.n, s.positive.fence, s.positive.count, s.positive.mean) == (5, 7.0, 1, 100.0)
    assert s.positive.mean_abs == pytest.approx(22.0)
    # negatives |Δr| = 1, 1, 1, 1, 9: IQR 0, fence 1 -> only −9, mean kept negative
    assert (s.negative.n, s.negative.fence, s.negative.count, s.negative.mean) == (5, 1.0, 1, -9.0)


def test_fixed_threshold_and_whisker() -> None:
    s = table1_stats(D, threshold=3.5)
    assert (s.positive.count, s.positive.mean) == (2, 52.0)
    assert (s.negative.count, s.negative.mean) == (1, -9.0)
    assert s.threshold == 3.5
    wide = table1_stats(D, whisker=100.0)
    assert wide.positive.count == 0 and wide.positive.mean is None


def test_one_sign_only_and_dict_form() -> None:
    s = table1_stats([0.5, 1.0, 2.0])
    assert s.share_positive == 1.0
    assert s.negative.n == 0 and s.negative.fence is None and s.negative.count == 0
    d = s.to_dict()
    assert d["negative"]["mean"] is None and d["positive"]["n"] == 3


@pytest.mark.parametrize(
    ("bad", "match"),
    [([], "non-empty"), ([[1.0, 2.0]], "1-D"), ([1.0, float("nan")], "non-finite")],
)
def test_bad_input_is_named(bad: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        table1_stats(bad)


def test_negative_whisker_rejected() -> None:
    with pytest.raises(ValueError, match="whisker"):
        table1_stats(D, whisker=-1.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=60))
def test_sign_symmetry_and_counts(values: list[float]) -> None:
    d = np.asarray(values)
    s, flipped = table1_stats(d), table1_stats(-d)
    assert s.positive.n + s.negative.n + s.ties == s.n
    assert s.positive.count <= s.positive.n and s.negative.count <= s.negative.n
    assert flipped.negative.count == s.positive.count
    assert flipped.positive.n == s.negative.n
    everything = sign_outliers(d[d > 0], threshold=0.0)
    assert everything.count == int((d > 0).sum())
