"""One CPU problem at subnormal scale and the solver's option checks (issue 22).

At ``s = max_i G_ii`` around 1e-310 the single-problem path (plain floats and numpy) used G
unnormalised, so its ridge and tolerances underflowed: a wrong λ marked converged, or a crash in
``zip()``. It now divides by ``s`` first, as the batched path does; both must agree, and agree with
cvxpy on the rescaled problem.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mooptim._host as host_module
from mooptim import MinNormSolver

SUBNORMAL_SCALES = (1e-310, 1e-320, 5e-324)


def _integer_gram(k: int, seed: int) -> torch.Tensor:
    """A well-conditioned integer Gram: ``J Jᵀ + k·I`` with small integer J (exact in float64)."""
    gen = torch.Generator().manual_seed(seed)
    jac = torch.randint(-3, 4, (k, k + 1), generator=gen).to(torch.float64)
    return jac @ jac.T + k * torch.eye(k, dtype=torch.float64)


def _cvxpy_weights(gram: torch.Tensor) -> torch.Tensor:
    return MinNormSolver("cvxpy").solve_gram(gram.unsqueeze(0)).weights[0]


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(2, 16),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from(SUBNORMAL_SCALES),
)
def test_host_matches_batched_at_subnormal_scale(k: int, seed: int, scale: float) -> None:
    gram = _integer_gram(k, seed) * scale
    try:
        batched = MinNormSolver().solve_gram(gram.unsqueeze(0))
    except ValueError as err:  # rounding to subnormals broke PSD: both paths must say so
        with pytest.raises(ValueError, match="positive semidefinite"):
            MinNormSolver().solve_gram(gram)
        assert "positive semidefinite" in str(err)
        return
    host = MinNormSolver().solve_gram(gram)
    assert bool(host.converged) and bool(batched.converged[0])
    torch.testing.assert_close(host.weights, batched.weights[0], atol=1e-9, rtol=0)
    assert math.isfinite(float(host.min_norm_sq)) and float(host.min_norm_sq) >= 0


@pytest.mark.parametrize("scale", SUBNORMAL_SCALES)
@pytest.mark.parametrize("k", [3, 5, 8, 13, 16])
def test_host_matches_cvxpy_on_the_rescaled_problem(k: int, scale: float) -> None:
    gram = _integer_gram(k, seed=k) * scale
    rescaled = gram / gram.diagonal().abs().max()
    try:
        host = MinNormSolver().solve_gram(gram)
    except ValueError as err:
        assert "positive semidefinite" in str(err)  # a clear refusal, never a crash
        return
    reference = _cvxpy_weights(rescaled)
    assert bool(host.converged)
    objective = float(host.weights @ rescaled @ host.weights)
    best = float(reference @ rescaled @ reference)
    assert objective <= best + 1e-7
    torch.testing.assert_close(host.weights, reference, atol=1e-4, rtol=0)


@pytest.mark.parametrize("small_k", [2, 64])  # numpy path for every K, then plain floats
@pytest.mark.parametrize("scale", [*SUBNORMAL_SCALES, 1e300])
def test_both_host_twins_handle_extreme_scales(small_k: int, scale: float) -> None:
    gram = _integer_gram(6, seed=1) * scale
    old = host_module.SMALL_K
    host_module.SMALL_K = small_k
    try:
        host = MinNormSolver().solve_gram(gram)
    finally:
        host_module.SMALL_K = old
    batched = MinNormSolver().solve_gram(gram.unsqueeze(0))
    torch.testing.assert_close(host.weights, batched.weights[0], atol=1e-9, rtol=0)
    assert bool(host.converged)


@pytest.mark.parametrize(
    ("options", "error", "names"),
    [
        ({"tol": math.inf}, ValueError, "tol"),
        ({"tol": math.nan}, ValueError, "tol"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"tol": "1e-6"}, TypeError, "tol"),
        ({"tol": True}, TypeError, "tol"),
        ({"input_tol": math.nan}, ValueError, "input_tol"),
        ({"input_tol": -1e-3}, ValueError, "input_tol"),
        ({"input_tol": math.inf}, ValueError, "input_tol"),
        ({"max_iter": True}, TypeError, "max_iter"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"max_iter": -5}, ValueError, "max_iter"),
        ({"max_iter": 2.5}, TypeError, "max_iter"),
        ({"max_iter": math.nan}, TypeError, "max_iter"),
        ({"check_every": 0}, ValueError, "check_every"),
        ({"check_every": False}, TypeError, "check_every"),
        ({"check_every": "16"}, TypeError, "check_every"),
        ({"check_every": None}, TypeError, "check_every"),
        ({"check_input": "no"}, TypeError, "check_input"),
    ],
)
def test_bad_solver_options_are_refused(options: dict, error: type, names: str) -> None:
    with pytest.raises(error, match=names):
        MinNormSolver(**options)


def test_numpy_integer_options_are_accepted() -> None:
    import numpy as np

    solver = MinNormSolver(max_iter=np.int64(40), tol=np.float64(1e-10), check_every=np.int32(4))
    assert solver.max_iter == 40 and solver.check_every == 4 and solver.tol == 1e-10
