"""FairGrad: TorchJD 0.18's weights where its least-squares solve converged, the exact fixed
point ``G w = w^(−1/α)`` everywhere else it exists, a clear error where it does not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mooptim import MinNormSolver
from mooptim.weightings import (
    FairGradWeighting,
    fairgrad_solution,
    fairgrad_weights,
    nash_mtl_solution,
)
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)

torchjd_aggregation = pytest.importorskip("torchjd.aggregation")
pytest.importorskip("scipy")

ALPHAS = st.sampled_from([1.0, 0.5, 2.0, 5.0])


def _min_norm_sq(gram: torch.Tensor) -> float:
    return float(MinNormSolver().solve_gram(gram).min_norm_sq) / float(gram.diagonal().max())


def _fairness_error(gram: torch.Tensor, w: torch.Tensor, alpha: float) -> float:
    """``maxᵢ |wᵢ^(1/α)(Gw)ᵢ − 1| / max(1, wᵢ^(1/α)(|G|w)ᵢ)`` in numpy's extended precision.

    Independent of the solver; the denominator (the size of the terms of ``(Gw)ᵢ``) makes it
    the backward error the solver certifies, so cancelling sums are judged fairly.
    """
    g = gram.numpy().astype(np.longdouble)
    x = w.numpy().astype(np.longdouble) ** (1 / alpha)
    y = w.numpy().astype(np.longdouble)
    return float((np.abs(x * (g @ y) - 1) / np.maximum(1, x * (np.abs(g) @ y))).max())


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(jacobians(max_k=6, max_d=8), ALPHAS)
def test_matches_torchjd_where_it_converged(jacobian: torch.Tensor, alpha: float) -> None:
    """Within 1e-4 (relative to the largest weight) of TorchJD's ``FairGradWeighting(alpha)``.

    Only where TorchJD's answer solves the equation (backward error ≤ 1e-8): for gradients at scale
    ≲ 1e-4 its least-squares stops near the start ``1/K``, and near Pareto-stationary gradients
    (where no solution exists) it returns an unconverged point.
    """
    gram = gramian_of(jacobian)
    assume(_min_norm_sq(gram) > 1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torchjd_aggregation.FairGradWeighting(alpha)(gram)
    assume(bool((theirs > 0).all()) and _fairness_error(gram, theirs, alpha) <= 1e-8)
    ours = FairGradWeighting(alpha)(gram)
    scale = float(theirs.abs().max())
    assert_close_relative(ours / scale, theirs / scale, 1e-4, f"weights vs TorchJD (α = {alpha})")


@given(jacobians(), ALPHAS)
def test_exact_fixed_point_or_clear_error(jacobian: torch.Tensor, alpha: float) -> None:
    gram = gramian_of(jacobian)
    stationarity = _min_norm_sq(gram)
    solution = fairgrad_solution(gram.unsqueeze(0), alpha)
    if stationarity > 1e-8:
        assert bool(solution.converged)
        w = solution.weights[0]
        assert bool((w > 0).all()) and _fairness_error(gram, w, alpha) <= 1e-11
    elif stationarity <= 1e-12:
        assert not bool(solution.converged)
        with pytest.raises(ValueError, match=r"fairgrad did not converge.*Pareto-stationary"):
            fairgrad_weights(gram, alpha)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_scale_equivariance_and_batching(alpha: float) -> None:
    """``G → σ²G`` scales the solution by ``σ^(−2/(1+1/α))``; a batch equals its loop."""
    gram = random_gramians(5, 4, seed=4)
    w = fairgrad_weights(gram, alpha)
    scaled = fairgrad_weights(1e6 * gram, alpha)
    torch.testing.assert_close(scaled, w * 1e6 ** (-1 / (1 + 1 / alpha)), rtol=1e-9, atol=0)
    looped = torch.stack([fairgrad_weights(g, alpha) for g in gram])
    torch.testing.assert_close(w, looped, rtol=1e-10, atol=0)


def test_alpha_one_is_nash_and_alpha_zero_is_mean() -> None:
    gram = random_gramians(3, 5, seed=8)
    torch.testing.assert_close(fairgrad_weights(gram, 1.0), nash_mtl_solution(gram).weights)
    torch.testing.assert_close(FairGradWeighting(0.0)(gram), torch.full((3, 5), 0.2).double())


def test_float32_input_is_solved_in_float64() -> None:
    gram = random_gramians(2, 3, seed=9)
    out = FairGradWeighting()(gram.float())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, fairgrad_weights(gram).float(), rtol=1e-5, atol=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": -1.0}, "alpha must be ≥ 0"),
        ({"alpha": float("inf")}, "alpha must be a finite number"),
        ({"tol": -1e-3}, "tol must be ≥ 0"),
        ({"max_iter": 0}, "max_iter must be an integer ≥ 1"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FairGradWeighting(**kwargs)
