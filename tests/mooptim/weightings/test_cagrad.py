"""CAGrad: TorchJD 0.18's weights, an independent primal certificate, batching, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mooptim.weightings import CAGradWeighting, cagrad_solution, cagrad_weights
from tests.mooptim.weightings._checks import assert_close_relative, gramian_of, jacobians

cp = pytest.importorskip("cvxpy")
torchjd_aggregation = pytest.importorskip("torchjd.aggregation")

NORM_EPS = 1e-4


def _tight_reference(gram: torch.Tensor, c: float) -> torch.Tensor:
    """TorchJD's formulation (SVD factor, cvxpy), solved by Clarabel at 1e-12 tolerances."""
    k = gram.shape[0]
    trace = float(gram.trace())
    if trace < NORM_EPS:
        return torch.zeros(k, dtype=torch.float64)
    u, s, _ = np.linalg.svd(gram.numpy() / trace)
    a = u @ np.diag(np.sqrt(np.clip(s, 0, None)))
    g0 = a.T @ np.ones(k) / k
    radius = c * np.linalg.norm(g0)
    w = cp.Variable(k)
    cost = (a @ g0) @ w + radius * cp.norm(a.T @ w, 2)
    tight = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "max_iter": 400}
    with warnings.catch_warnings():  # "may be inaccurate": Clarabel stops short of 1e-12
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(cost), [w >= 0, cp.sum(w) == 1]).solve(cp.CLARABEL, **tight)
    norm = np.linalg.norm(a.T @ w.value)
    weights = np.ones(k) / k + radius / norm * w.value if norm >= NORM_EPS else np.zeros(k)
    return torch.from_numpy(weights)


def _direction(jacobian: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``Jᵀw`` in the trace-normalised units of TorchJD's solve (rows of norm ≤ 1)."""
    scale = float(gramian_of(jacobian).trace()) ** 0.5
    return weights @ (jacobian / (scale if scale > 0 else 1.0))


def _worst_improvement(gram: torch.Tensor, weights: torch.Tensor) -> float:
    """CAGrad's objective ``minᵢ gᵢᵀd`` of ``d = Jᵀweights`` (trace-normalised), ``-inf`` if ``d``
    leaves the ball ``‖d − g₀‖ ≤ c‖g₀‖`` by more than 1e-9 relative (c = 0.5)."""
    g = gram / gram.trace()
    mean = torch.full_like(weights, 1.0 / weights.shape[0])
    offset = weights - mean
    radius = 0.5 * float(mean @ g @ mean) ** 0.5
    if float(offset @ g @ offset) ** 0.5 > radius * (1 + 1e-9):
        return float("-inf")
    return float((g @ weights).min())


def _well_conditioned(gram: torch.Tensor) -> bool:
    eig = torch.linalg.eigvalsh(gram)
    return bool(eig[0] > 1e-6 * eig[-1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jacobians(max_k=6, max_d=8))
def test_matches_torchjd(jacobian: torch.Tensor) -> None:
    """Same direction (and weights where unique) as TorchJD's ``CAGradWeighting(c=0.5)``.

    TorchJD's Clarabel solve has default (1e-8) tolerances, which leave its weights up to ~1e-4
    from the optimum. We require 1e-4 agreement with TorchJD (except within a factor 2 of the
    ``norm_eps`` threshold, where the two sides may pick different branches), and that our
    direction is at least as good as TorchJD's and as the same formulation solved by Clarabel at
    1e-12 tolerances, in CAGrad's own objective (the worst improvement ``minᵢ gᵢᵀd`` over the
    ball), to 1e-12: those references are ~1e-6 (tight) and ~1e-4 (TorchJD) from our certified
    optimum, so agreement cannot be asserted more tightly than they are accurate.
    """
    gram = gramian_of(jacobian)
    solution = cagrad_solution(gram)
    dual_norm = float(solution.dual_weights @ gram @ solution.dual_weights) ** 0.5
    trace = float(gram.trace())
    assume(trace == 0 or not 0.5 * NORM_EPS < dual_norm / trace**0.5 < 2 * NORM_EPS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torchjd_aggregation.CAGradWeighting(c=0.5)(gram)
    tight = _tight_reference(gram, 0.5)
    ours = CAGradWeighting()(gram)
    torch.testing.assert_close(ours, solution.weights)
    d_ours = _direction(jacobian, ours)
    assert_close_relative(d_ours, _direction(jacobian, theirs), 1e-4, "direction vs TorchJD")
    if _well_conditioned(gram):
        assert_close_relative(ours, theirs, 1e-4, "weights vs TorchJD")
    if trace >= NORM_EPS and bool(ours.any()):
        ours_value = _worst_improvement(gram, ours)
        for reference in (theirs, tight):
            assert ours_value >= _worst_improvement(gram, reference) - 1e-12


@given(jacobians(), st.sampled_from([0.1, 0.5, 0.9, 2.0]))
def test_primal_certificate(jacobian: torch.Tensor, c: float) -> None:
    """``d = Jᵀweights`` is in CAGrad's ball and its worst improvement equals the dual value.

    Weak duality: for every feasible ``d`` and every ``w ∈ Δ``, ``minᵢ gᵢᵀd ≤ bᵀw + s‖u(w)‖``; a
    feasible ``d`` that attains the dual value of ``w*`` proves both optimal.
    """
    gram = gramian_of(jacobian)
    trace = float(gram.trace())
    solution = cagrad_solution(gram, c)
    assert bool(solution.converged) and float(solution.gap) <= 1e-10
    if not bool(solution.weights.any()):
        return  # the zero branch (tiny trace or Pareto-stationary), checked elsewhere
    g = gram / trace
    k = gram.shape[0]
    mean = torch.full((k,), 1.0 / k, dtype=torch.float64)
    radius = c * float(mean @ g @ mean) ** 0.5
    offset = solution.weights - mean
    assert float(offset @ g @ offset) ** 0.5 <= radius * (1 + 1e-9) + 1e-12
    w = solution.dual_weights
    dual_value = float(g.mean(-1) @ w) + radius * float(w @ g @ w) ** 0.5
    primal_value = float((g @ solution.weights).min())
    assert abs(primal_value - dual_value) <= 1e-9 * max(1.0, abs(dual_value))


def test_batched_equals_loop() -> None:
    gen = torch.Generator().manual_seed(3)
    jacobs = [torch.randn(4, d, generator=gen, dtype=torch.float64) for d in (2, 3, 6, 6, 8)]
    jacobs[3][1] = -0.8 * jacobs[3][0]
    gram = torch.stack([gramian_of(j) for j in jacobs])
    batched = cagrad_weights(gram)
    looped = torch.stack([cagrad_weights(g) for g in gram])
    torch.testing.assert_close(batched, looped, rtol=1e-9, atol=1e-12)


def test_special_cases() -> None:
    gram = torch.tensor([[4.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(cagrad_weights(gram, c=0.0), torch.full((2,), 0.5).double())
    one = torch.tensor([[9.0]], dtype=torch.float64)  # K = 1: 1/K + c·1
    torch.testing.assert_close(cagrad_weights(one, c=0.5), torch.tensor([1.5]).double())
    assert not bool(cagrad_weights(1e-6 * gram).any())  # trace < norm_eps: TorchJD's zeros
    opposed = torch.tensor([[1.0, -2.0], [-2.0, 4.0]], dtype=torch.float64)  # g₂ = −2g₁
    assert not bool(cagrad_weights(opposed, c=2.0).any())  # Pareto-stationary, c ≥ 1: zeros
    # c < 1: all weight on g₁ (against the mean); TorchJD gives the same [0.75, 0.5].
    torch.testing.assert_close(cagrad_weights(opposed), torch.tensor([0.75, 0.5]).double())


def test_torchjd_docs_example() -> None:
    """TorchJD's documented ``CAGradWeighting(c=0.5)`` output on its ``G_base``-style example."""
    jacobian = torch.tensor([[-4.0, 1.0, 1.0], [6.0, 1.0, 1.0]], dtype=torch.float64)
    direction = cagrad_weights(gramian_of(jacobian)) @ jacobian
    torch.testing.assert_close(
        direction, torch.tensor([0.1835, 1.2041, 1.2041]).double(), atol=1e-4, rtol=0
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"c": -0.1}, "c must be ≥ 0"),
        ({"c": float("nan")}, "c must be a finite"),
        ({"norm_eps": -1.0}, "norm_eps must be ≥ 0"),
        ({"c": "big"}, "c must be a finite"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CAGradWeighting(**kwargs)
