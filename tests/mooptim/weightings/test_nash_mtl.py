"""Nash-MTL: the exact bargaining solution, TorchJD 0.18's NashMTL where it converged, state."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings

from mooptim import MinNormSolver
from mooptim.weightings import NashMTLWeighting, nash_mtl_solution, nash_mtl_weights
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)

pytest.importorskip("cvxpy")
torchjd_aggregation = pytest.importorskip("torchjd.aggregation")


def _min_norm_sq(gram: torch.Tensor) -> float:
    """MGDA's ``min_{λ∈Δ} λᵀGλ`` relative to ``maxᵢ Gᵢᵢ`` (0: Pareto-stationary)."""
    return float(MinNormSolver().solve_gram(gram).min_norm_sq) / float(gram.diagonal().max())


def _bargaining_error(gram: torch.Tensor, w: torch.Tensor) -> float:
    """``maxᵢ |wᵢ(Gw)ᵢ − 1| / max(1, wᵢ(|G|w)ᵢ)`` in numpy's extended precision.

    Independent of the solver; the denominator (the size of the terms of ``(Gw)ᵢ``) makes it
    the backward error the solver certifies, so cancelling sums are judged fairly.
    """
    g = gram.numpy().astype(np.longdouble)
    x = w.numpy().astype(np.longdouble)
    return float((np.abs(x * (g @ x) - 1) / np.maximum(1, x * (np.abs(g) @ x))).max())


def _torchjd_weights(jacobian: torch.Tensor) -> torch.Tensor:
    """TorchJD's ``NashMTL`` weights (default hyperparameters, fresh state) of one Jacobian."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torchjd_aggregation.NashMTL(n_tasks=jacobian.shape[0]).weighting(jacobian)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(jacobians(max_k=5, max_d=8))
def test_matches_torchjd_where_it_converged(jacobian: torch.Tensor) -> None:
    """Equal to TorchJD's (clipped, ``max_norm = 1``) weights wherever its SCA converged.

    TorchJD's weights are ``α/‖Jᵀα‖`` (at the solution ``‖Jᵀα‖ = √K > 1 = max_norm``, so they
    are clipped); it converged when they are clipped and solve ``α ⊙ Gα ∝ 1`` (ratio spread
    ≤ 1e-5), which holds at scales ~1 and fails at 1e-8/1e-4 (it stops at its
    start) and 1e8 (ECOS loses accuracy); see the module docstring of ``_nash_mtl``.
    """
    gram = gramian_of(jacobian)
    # Outside scales ~1 TorchJD does not converge (checked below): skip those draws before its
    # costly call.
    assume(1e-2 < float(gram.diagonal().max()) < 1e4 and _min_norm_sq(gram) > 1e-8)
    theirs = _torchjd_weights(jacobian).double()
    products = theirs * (gram @ theirs)
    clipped = float(products.sum()) >= 1 - 1e-9  # ‖Jᵀα‖² = Σᵢ αᵢ(Gα)ᵢ
    assume(clipped and bool((theirs > 0).all() and (products > 0).all()))
    assume(float(products.max() / products.min()) - 1 <= 1e-5)
    ours = NashMTLWeighting()(gram)
    scale = float(theirs.abs().max())
    assert_close_relative(ours / scale, theirs / scale, 1e-4, "weights vs TorchJD")


@given(jacobians())
def test_exact_fixed_point_or_clear_error(jacobian: torch.Tensor) -> None:
    """``w ⊙ Gw = 1`` (backward error ≤ 1e-11) unless Pareto-stationary; there an error."""
    gram = gramian_of(jacobian)
    stationarity = _min_norm_sq(gram)
    solution = nash_mtl_solution(gram.unsqueeze(0))
    if stationarity > 1e-8:
        assert bool(solution.converged)
        w = solution.weights[0]
        assert bool((w > 0).all())
        assert _bargaining_error(gram, w) <= 1e-11
        clipped = nash_mtl_weights(gram)  # max_norm = 1 and wᵀGw = K ≥ 1: w / √(wᵀGw)
        assert_close_relative(clipped / w.max(), w / float(w @ gram @ w) ** 0.5 / w.max(), 1e-9)
    elif stationarity <= 1e-12:
        assert not bool(solution.converged)
        with pytest.raises(ValueError, match=r"nash_mtl did not converge.*Pareto-stationary"):
            NashMTLWeighting()(gram)


def test_scale_equivariance_and_batching() -> None:
    gram = random_gramians(6, 4, seed=2)
    w = nash_mtl_solution(gram).weights
    torch.testing.assert_close(nash_mtl_solution(1e6 * gram).weights, w * 1e-3, rtol=1e-9, atol=0)
    looped = torch.cat([nash_mtl_solution(g.unsqueeze(0)).weights for g in gram])
    torch.testing.assert_close(w, looped, rtol=1e-10, atol=0)
    batched = NashMTLWeighting()(gram)
    torch.testing.assert_close(batched, torch.stack([NashMTLWeighting()(g) for g in gram]))


def test_update_every_reuses_the_solution_and_clips_with_the_current_gramian() -> None:
    grams = random_gramians(4, 3, seed=5)
    weighting = NashMTLWeighting(update_weights_every=2, max_norm=0.5)
    outputs = [weighting(g) for g in grams]
    for step, out in enumerate(outputs):
        solved = nash_mtl_solution(grams[step - step % 2].unsqueeze(0)).weights[0]
        norm = float(solved @ grams[step] @ solved) ** 0.5
        torch.testing.assert_close(out, solved * min(1.0, 0.5 / norm), rtol=1e-9, atol=0)
    assert weighting.state_dict()["step"] == 4


def test_update_every_matches_torchjd() -> None:
    """TorchJD's ``update_weights_every = 2`` over three steps (scale-1 Jacobians: converged)."""
    gen = torch.Generator().manual_seed(0)
    jacobians_ = [torch.randn(3, 5, generator=gen, dtype=torch.float64) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torchjd_aggregation.NashMTL(n_tasks=3, update_weights_every=2)
        expected = [theirs.weighting(j) for j in jacobians_]
    ours = NashMTLWeighting(update_weights_every=2)
    for j, reference in zip(jacobians_, expected, strict=True):
        assert_close_relative(ours(gramian_of(j)), reference, 1e-4, "step")


def test_state_dict_round_trip_and_reset() -> None:
    grams = random_gramians(5, 3, seed=7)
    first = NashMTLWeighting(update_weights_every=3)
    for g in grams[:2]:
        first(g)
    second = NashMTLWeighting(update_weights_every=3)
    second.load_state_dict(first.state_dict())
    torch.testing.assert_close(second(grams[2]), first(grams[2]))
    first.reset()
    assert first.state_dict() == {"step": 0, "solution": None}


def test_bad_state_and_shape_changes_are_named() -> None:
    weighting = NashMTLWeighting(update_weights_every=2)
    with pytest.raises(ValueError, match="keys step and solution"):
        weighting.load_state_dict({"step": 0})
    with pytest.raises(ValueError, match="step must be an integer"):
        weighting.load_state_dict({"step": -1, "solution": None})
    weighting(random_gramians(2, 3))
    with pytest.raises(ValueError, match=r"batch × K = \(2, 3\).*got \(3, 3\)"):
        weighting(random_gramians(3, 3))
    stationary = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
    fresh = NashMTLWeighting()
    with pytest.raises(ValueError, match="Pareto-stationary"):
        fresh(stationary)
    assert fresh.state_dict() == {"step": 0, "solution": None}  # a failed call changes nothing


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_norm": -1.0}, "max_norm must be ≥ 0"),
        ({"update_weights_every": 0}, "update_weights_every must be an integer ≥ 1"),
        ({"tol": 0.0}, "tol must be > 0"),
        ({"max_iter": 2.5}, "max_iter must be an integer ≥ 1"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        NashMTLWeighting(**kwargs)
