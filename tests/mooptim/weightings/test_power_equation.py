"""The solver of ``G w = w^(−p)`` (Nash-MTL, FairGrad): one CPU problem in numpy equals the
batched torch solver, and the hull lower bound that spares most problems the MGDA test is one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mooptim.weightings._power_equation as power
from mooptim import MinNormSolver
from mooptim.weightings._power_equation import (
    STATIONARY_TOL,
    hull_lower_bound,
    pareto_stationary,
    solve_power_equation,
)
from mooptim.weightings._power_equation_numpy import hull_lower_bound_numpy
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)

EXPONENTS = st.sampled_from([1.0, 0.5, 2.0, 0.2])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(jacobians(), EXPONENTS)
def test_one_problem_on_the_host_equals_the_batched_solver(jacobian, p) -> None:
    gram = gramian_of(jacobian)
    one = solve_power_equation(gram, p)
    # Two copies make a batch: the torch solver runs.
    batch = solve_power_equation(torch.stack([gram, gram]), p)
    assert bool(one.converged) == bool(batch.converged[0])
    if bool(one.converged):
        assert_close_relative(one.weights, batch.weights[0], 1e-8, "host vs batched")
        assert abs(int(one.iterations) - int(batch.iterations[0])) <= 1
    assert one.weights.shape == gram.shape[:1] and one.residual.shape == ()


def test_a_warm_start_reaches_the_same_solution_in_fewer_steps() -> None:
    gram = random_gramians(1, 6, seed=4)[0]
    cold = solve_power_equation(gram, 1.0)
    warm = solve_power_equation(gram, 1.0, warm_start=cold.weights * 1.01)
    assert bool(warm.converged) and int(warm.iterations) < int(cold.iterations)
    assert_close_relative(warm.weights, cold.weights, 1e-10)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(jacobians(), st.integers(0, 2**31 - 1))
def test_hull_lower_bound_is_a_lower_bound(jacobian, seed) -> None:
    gram = gramian_of(jacobian)
    v = torch.rand(gram.shape[0], generator=torch.Generator().manual_seed(seed), dtype=gram.dtype)
    exact = float(MinNormSolver().solve_gram(gram).min_norm_sq)
    bound = float(hull_lower_bound(gram[None], v[None])[0])
    assert 0.0 <= bound <= exact * (1 + 1e-9) + 1e-12 * float(gram.diagonal().max())
    assert bound == pytest.approx(hull_lower_bound_numpy(gram.numpy(), v.numpy()), rel=1e-12)


def test_hull_lower_bound_is_tight_at_an_interior_min_norm_point() -> None:
    """At an interior minimiser λ*, Gλ* = (λ*ᵀGλ*)·1, so the bound equals the minimum."""
    j = torch.randn(4, 6, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    gram = gramian_of(j) + 4.0 * torch.eye(4, dtype=torch.float64)  # near-isotropic: interior
    result = MinNormSolver().solve_gram(gram)
    assert bool((result.weights > 1e-6).all())
    bound = float(hull_lower_bound(gram[None], result.weights[None])[0])
    assert bound == pytest.approx(float(result.min_norm_sq), rel=1e-9)


def _stationary_gram() -> torch.Tensor:
    j = torch.randn(3, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return gramian_of(torch.cat([j, -(j[0] + j[1])[None]]))  # 0 is in the hull


def test_only_undecided_problems_get_the_min_norm_solve(monkeypatch) -> None:
    grams = torch.cat([random_gramians(5, 4, seed=1) + 2.0, _stationary_gram()[None]])
    sizes = []
    exact = power._min_norm_sq

    def counted(gram):
        sizes.append(gram.shape[0])
        return exact(gram)

    monkeypatch.setattr(power, "_min_norm_sq", counted)
    start = torch.ones(grams.shape[:-1], dtype=torch.float64)
    stationary = pareto_stationary(grams, start)
    assert stationary.tolist() == [False] * 5 + [True]
    assert sizes == [1]  # only the stationary problem was left undecided by the bound
    assert pareto_stationary(grams).tolist() == stationary.tolist()  # the exact test agrees


@pytest.mark.parametrize("batched", [False, True])
def test_stationary_problems_are_reported_unconverged(batched: bool) -> None:
    gram = _stationary_gram()
    grams = torch.stack([gram, random_gramians(1, 4)[0]]) if batched else gram
    solution = solve_power_equation(grams, 1.0)
    converged = solution.converged.reshape(-1).tolist()
    assert converged == ([False, True] if batched else [False])
    threshold = STATIONARY_TOL * float(gram.diagonal().max())
    assert float(MinNormSolver().solve_gram(gram).min_norm_sq) <= threshold


def test_host_solver_never_reads_torch_for_a_decided_problem(monkeypatch) -> None:
    """A problem the bound decides costs no MGDA call on the host path either."""
    import mooptim.weightings._power_equation_numpy as host

    def refuse(gram, threshold):
        raise AssertionError("MGDA ran")

    monkeypatch.setattr(host, "_pareto_stationary", refuse)
    gram = random_gramians(1, 5, seed=3)[0] + 1.0
    assert bool(solve_power_equation(gram, 1.0).converged)
    assert np.isfinite(solve_power_equation(gram, 0.5).weights.numpy()).all()
