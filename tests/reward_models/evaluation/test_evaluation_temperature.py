"""Temperature scaling: the fit agrees with scipy, recovers known temperatures, never sees test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.evaluation import temperature as temp
from applications.reward_models.evaluation.temperature import (
    check_disjoint,
    fit_temperature,
    temperature_scale,
)


def labelled(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    d = rng.normal(0.0, 2.0, n)
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-d))
    return scale * np.where(won, d, -d)


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_fit_matches_scipy_on_the_log_loss(scale: float) -> None:
    d = labelled(np.random.default_rng(0), 5000, scale)

    def loss(log_t: float) -> float:
        return float(np.logaddexp(0.0, -d / np.exp(log_t)).mean())

    ref = np.exp(
        minimize_scalar(loss, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10}).x
    )
    assert fit_temperature(d) == pytest.approx(ref, rel=1e-4)
    assert fit_temperature(d) == pytest.approx(scale, rel=0.15)  # Δ scaled by s: T ≈ s


def test_degenerate_fits_hit_the_bounds() -> None:
    assert fit_temperature([1.0, 2.0, 3.0]) == pytest.approx(1e-3)  # separable
    assert fit_temperature([-1.0, -2.0]) == pytest.approx(1e3)  # always wrong


def test_scaling_improves_an_overconfident_model() -> None:
    rng = np.random.default_rng(1)
    out = temperature_scale(labelled(rng, 1000, 4.0), labelled(rng, 1000, 4.0))
    assert out.temperature > 2.5 and out.ece_scaled < out.ece and out.log_loss_scaled < out.log_loss
    assert (out.n_calibration, out.n_test) == (1000, 1000)


def test_the_fit_never_sees_test_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    calibration = labelled(rng, 300, 2.0)
    seen: list[np.ndarray] = []
    real = temp.fit_temperature
    monkeypatch.setattr(temp, "fit_temperature", lambda d: seen.append(np.asarray(d)) or real(d))
    a = temperature_scale(calibration, labelled(rng, 200, 2.0))
    b = temperature_scale(calibration, 10.0 * labelled(rng, 200, 2.0))
    assert len(seen) == 2 and all(np.array_equal(s, calibration) for s in seen)
    assert a.temperature == b.temperature  # the test Δ cannot move T


def _pair(i: int) -> PreferencePair:
    return PreferencePair(prompt=f"q{i}", chosen=f"good {i}", rejected=f"bad {i}", source="s")


def test_calibration_pairs_must_be_disjoint_from_train_and_test() -> None:
    cal, train, test = [_pair(i) for i in range(3)], [_pair(i) for i in range(3, 6)], [_pair(9)]
    check_disjoint(cal, train=train, test=test)
    with pytest.raises(ValueError, match=r"1 calibration pair.*test pairs"):
        check_disjoint(cal, train=train, test=[_pair(2)])
    with pytest.raises(ValueError, match="train"):
        temperature_scale(
            [1.0, -1.0],
            [1.0],
            calibration_pairs=cal,
            excluded={"train": [_pair(0)], "test": test},
        )
