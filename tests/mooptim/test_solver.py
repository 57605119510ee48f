"""MinNormSolver, the front-end: edge cases, bad input, warm start, iteration caps, dtypes."""

from __future__ import annotations

import pytest
import torch
from _asserts import assert_simplex, assert_valid, method_cases

from mooptim import MinNormResult, MinNormSolver

CASES = {c.name: c for c in method_cases()}
METHODS = list(CASES)


def _random_gram(k: int, d: int, seed: int = 0, batch: tuple[int, ...] = ()) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    jac = torch.randn(*batch, k, d, generator=gen, dtype=torch.float64)
    return jac @ jac.mT


@pytest.mark.parametrize("method", METHODS)
def test_single_objective_is_one(method: str) -> None:
    res = MinNormSolver(method).solve_gram(torch.tensor([[4.0]]))
    assert res.weights.tolist() == [1.0]
    assert float(res.min_norm_sq) == 4.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k", [2, 3, 6])
def test_zero_gram_gives_uniform(method: str, k: int) -> None:
    res = MinNormSolver(method).solve_gram(torch.zeros(2, k, k))
    torch.testing.assert_close(res.weights, torch.full((2, k), 1.0 / k))
    assert (res.min_norm_sq == 0).all() and (res.kkt_residual == 0).all()


def test_two_objectives_closed_form() -> None:
    # g1 = (1, 0), g2 = (0, 2): λ1 = 4/5 gives the min-norm point (0.8, 0.4).
    gram = torch.tensor([[1.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    res = MinNormSolver().solve_gram(gram)
    torch.testing.assert_close(res.weights, torch.tensor([0.8, 0.2], dtype=torch.float64))
    torch.testing.assert_close(res.min_norm_sq, torch.tensor(0.8, dtype=torch.float64))
    # g2 = 2 g1: the shorter vertex g1 wins, at the boundary.
    gram = torch.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=torch.float64)
    torch.testing.assert_close(
        MinNormSolver().solve_gram(gram).weights, torch.tensor([1.0, 0.0], dtype=torch.float64)
    )


def test_opposite_gradients_reach_zero() -> None:
    jac = torch.tensor([[1.0, 2.0], [-2.0, -4.0], [0.5, 3.0]], dtype=torch.float64)
    res = MinNormSolver().solve(jac)
    assert float(res.min_norm_sq) <= 1e-24
    torch.testing.assert_close(
        res.weights @ jac, torch.zeros(2, dtype=torch.float64), atol=1e-12, rtol=0
    )


@pytest.mark.parametrize("method", METHODS)
def test_float32_input_keeps_dtype(method: str) -> None:
    jac = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(1))
    res = MinNormSolver(method, max_iter=20_000).solve(jac * 1e-30)
    assert res.weights.dtype == torch.float32 and res.min_norm_sq.dtype == torch.float32
    assert_simplex(res.weights, atol=1e-5)
    ref = MinNormSolver().solve(jac.double())
    torch.testing.assert_close(res.weights.double(), ref.weights, atol=2e-2, rtol=0)


def test_solve_matches_solve_gram() -> None:
    jac = torch.randn(4, 5, 30, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    a = MinNormSolver().solve(jac)
    b = MinNormSolver().solve_gram(jac @ jac.mT)
    torch.testing.assert_close(a.weights, b.weights, atol=1e-12, rtol=0)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gram", "match"),
    [
        (torch.zeros(3, 2), "square"),
        (torch.zeros(3), r"\[\.\.\., K, K\]"),
        (torch.zeros(0, 0), "K = 0"),
        (torch.tensor([[1.0, float("nan")], [float("nan"), 1.0]]), "NaN or Inf"),
        (torch.tensor([[1.0, 0.0], [0.0, float("inf")]]), "NaN or Inf"),
        (torch.tensor([[1.0, 0.5], [0.0, 1.0]]), "not symmetric"),
        (torch.tensor([[1.0, 2.0], [2.0, 1.0]]), "not positive semidefinite"),
        (torch.tensor([[-1.0, 0.0], [0.0, 1.0]]), "not positive semidefinite"),
    ],
)
def test_bad_gram_raises(gram: torch.Tensor, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MinNormSolver().solve_gram(gram)
    with pytest.raises(ValueError, match=match):  # the weights-only entry point checks alike
        MinNormSolver().solve_gram_weights(gram)


@pytest.mark.parametrize("shape", [(3,), (16,), (4, 3), (2, 16)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_solve_gram_weights_equals_solve_gram(shape: tuple[int, ...], dtype: torch.dtype) -> None:
    """Plain-float (K <= 12), numpy (K = 16) and batched paths: the same weights, same dtype."""
    k = shape[-1]
    gen = torch.Generator().manual_seed(k)
    v = torch.randn(*shape, k + 1, generator=gen, dtype=torch.float64)
    gram = (v @ v.mT).to(dtype)
    weights = MinNormSolver().solve_gram_weights(gram)
    assert weights.dtype == dtype and weights.shape == shape
    torch.testing.assert_close(weights, MinNormSolver().solve_gram(gram).weights, rtol=0, atol=0)


def test_bad_gram_names_problem_in_batch() -> None:
    gram = torch.eye(3).repeat(4, 1, 1)
    gram[2, 0, 1] = 0.7
    with pytest.raises(ValueError, match="problem 2 of the batch"):
        MinNormSolver().solve_gram(gram)


def test_non_finite_vector_names_objective() -> None:
    jac = torch.randn(4, 10)
    jac[2, 7] = float("inf")
    with pytest.raises(ValueError, match="objective 2"):
        MinNormSolver().solve(jac)
    with pytest.raises(ValueError, match="K = 0"):
        MinNormSolver().solve(torch.zeros(0, 10))


def test_type_errors_and_bad_options() -> None:
    with pytest.raises(TypeError, match="floating"):
        MinNormSolver().solve_gram(torch.eye(2, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        MinNormSolver().solve_gram([[1.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown min-norm method"):
        MinNormSolver("simplex")
    with pytest.raises(ValueError, match="max_iter"):
        MinNormSolver("frank_wolfe", max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        MinNormSolver(tol=-1.0)


def test_small_asymmetry_and_negative_eigenvalue_within_tolerance_pass() -> None:
    gram = _random_gram(4, 2)  # rank 2: eigenvalues 0 up to rounding
    gram[0, 1] += 1e-12
    res = MinNormSolver().solve_gram(gram)
    assert_simplex(res.weights)
    bad = gram.clone()
    bad[0, 1] += 1e-3 * float(gram.diagonal().max())
    with pytest.raises(ValueError, match="not symmetric"):
        MinNormSolver().solve_gram(bad)
    # check_input=False skips the value checks and still returns a simplex point.
    assert_simplex(MinNormSolver(check_input=False).solve_gram(bad).weights)


@pytest.mark.parametrize(
    ("shape", "match"), [((3,), "expected \\(2, 3\\)"), ((2, 4), "expected"), ((1, 3), "expected")]
)
def test_warm_start_shape_mismatch(shape: tuple[int, ...], match: str) -> None:
    gram = _random_gram(3, 4, batch=(2,))
    with pytest.raises(ValueError, match=match):
        MinNormSolver().solve_gram(gram, warm_start=torch.full(shape, 1 / 3))


def test_warm_start_values_checked() -> None:
    gram = _random_gram(3, 4)
    with pytest.raises(ValueError, match="negative"):
        MinNormSolver().solve_gram(gram, warm_start=torch.tensor([1.5, -0.5, 0.0]))
    with pytest.raises(ValueError, match="NaN or Inf"):
        MinNormSolver().solve_gram(gram, warm_start=torch.tensor([float("nan"), 0.5, 0.5]))


# --- warm start and iteration caps -----------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_warm_start_from_solution_and_from_anywhere(method: str) -> None:
    case = CASES[method]
    gram = _random_gram(5, 7, seed=3, batch=(3,))
    exact = MinNormSolver().solve_gram(gram)
    res = case.solver.solve_gram(gram, warm_start=exact.weights)
    assert_valid(res, gram, case)
    if method in ("frank_wolfe", "projected_gradient"):
        assert (res.iterations == 0).all()  # already optimal: no step taken
    if method == "exact":
        assert (res.iterations <= 2).all()
    corner = torch.zeros(3, 5, dtype=torch.float64)
    corner[:, -1] = 1
    assert_valid(case.solver.solve_gram(gram, warm_start=corner), gram, case)


@pytest.mark.parametrize(
    ("method", "max_iter"),
    [("exact", 1), ("exact", 3)]
    + [(m, n) for m in ("frank_wolfe", "projected_gradient") for n in (1, 3, 17)],
)
def test_max_iter_is_enforced(method: str, max_iter: int) -> None:
    gram = _random_gram(12, 30, seed=5, batch=(4,))
    res = MinNormSolver(method, tol=1e-14, max_iter=max_iter, check_every=5).solve_gram(gram)
    assert (res.iterations <= max_iter).all()
    assert (res.iterations == max_iter).any()
    assert not res.converged.all()
    assert_simplex(res.weights)


def test_result_is_a_frozen_dataclass() -> None:
    res = MinNormSolver().solve_gram(_random_gram(3, 3))
    assert isinstance(res, MinNormResult)
    with pytest.raises(AttributeError):
        res.weights = res.weights  # type: ignore[misc]


@pytest.mark.parametrize("batch", [(), (2,)])
@pytest.mark.parametrize("k", [2, 3, 20])
@pytest.mark.parametrize("method", METHODS)
def test_unchecked_non_finite_gram_is_never_converged(
    method: str, k: int, batch: tuple[int, ...]
) -> None:
    """check_input=False on a NaN/Inf Gram: uniform weights, converged=False, NaN certificate."""
    gram = _random_gram(k, k + 1, seed=7, batch=batch)
    for bad in (float("nan"), float("inf")):
        g = gram.clone()
        g[..., 0, 1] = g[..., 1, 0] = bad
        res = MinNormSolver(method, check_input=False).solve_gram(g)
        assert not res.converged.any(), (method, bad, res)
        torch.testing.assert_close(res.weights, torch.full((*batch, k), 1.0 / k, dtype=g.dtype))
        assert res.min_norm_sq.isnan().all()
    vectors = torch.randn(*batch, k, 4, generator=torch.Generator().manual_seed(8))
    vectors[..., 0, 0] = float("nan")
    assert not MinNormSolver(method, check_input=False).solve(vectors).converged.any()


def test_solver_is_stateless() -> None:
    """The same call gives the same answer: warm starts come only from the caller."""
    solver = MinNormSolver()
    gram = _random_gram(8, 6, seed=4)
    first = solver.solve_gram(gram)
    again = solver.solve_gram(gram)
    assert torch.equal(first.weights, again.weights)
    assert int(again.iterations) == int(first.iterations) > 2
    warm = solver.solve_gram(gram * (1 + 1e-9), warm_start=first.weights)
    assert int(warm.iterations) == 1  # the previous support is already optimal
    torch.testing.assert_close(warm.weights, first.weights, atol=1e-9, rtol=0)
