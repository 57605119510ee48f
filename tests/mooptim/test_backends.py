"""The backend table, and hypothesis properties shared by every min-norm method (_asserts.py)."""

from __future__ import annotations

import typing

import pytest
import torch
from _asserts import MethodCase, assert_valid, method_cases, scale_of
from hypothesis import given, settings
from hypothesis import strategies as st

import mooptim
from mooptim import MinNormSolver
from mooptim._backends import BACKENDS
from mooptim.solver import Method

CASES = {c.name: c for c in method_cases()}
EXAMPLES = {"exact": 60, "frank_wolfe": 8, "projected_gradient": 12, "cvxpy": 15}
KINDS = ["random", "random", "duplicated", "zero_rows", "collinear", "low_rank", "zero"]


@st.composite
def jacobians(draw: st.DrawFn, max_k: int = 7, kinds: list[str] | None = None) -> torch.Tensor:
    """``[K, d]`` objective vectors: random, duplicated, zero, collinear or low-rank, at scale
    10^e with e ∈ [-15, 15] (Gram entries from 1e-30 to 1e30)."""
    k = draw(st.integers(1, max_k))
    d = draw(st.integers(1, 9))
    kind = draw(st.sampled_from(kinds or KINDS))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    jac = torch.randn(k, d, generator=gen, dtype=torch.float64)
    if kind == "duplicated" and k >= 2:
        jac[k - 1] = jac[0]
        if k >= 4:
            jac[2] = jac[1]
    elif kind == "zero_rows":
        jac[torch.rand(k, generator=gen) < 0.4] = 0
    elif kind == "collinear":
        jac = torch.randn(k, 1, generator=gen, dtype=torch.float64) * jac[:1]
    elif kind == "low_rank":
        r = max(1, min(d, k) // 2)
        jac = torch.randn(k, r, generator=gen, dtype=torch.float64) @ jac[:r]
    elif kind == "zero":
        jac.zero_()
    return jac * 10.0 ** draw(st.integers(-15, 15))


def _gram(jac: torch.Tensor) -> torch.Tensor:
    return jac @ jac.T


def _given_for(name: str):
    return settings(max_examples=EXAMPLES[name])


@pytest.mark.parametrize("name", list(CASES))
def test_valid_solution(name: str) -> None:
    case = CASES[name]

    @_given_for(name)
    @given(jac=jacobians())
    def check(jac: torch.Tensor) -> None:
        gram = _gram(jac)
        assert_valid(case.solver.solve_gram(gram), gram, case)
        # solve(vectors) is the same problem through the vectors.
        assert_valid(case.solver.solve(jac), gram, case)

    check()


@pytest.mark.parametrize("name", list(CASES))
def test_permutation_equivariance(name: str) -> None:
    case = CASES[name]

    @_given_for(name)
    @given(jac=jacobians(), data=st.data())
    def check(jac: torch.Tensor, data: st.DataObject) -> None:
        k = jac.shape[0]
        perm = torch.tensor(data.draw(st.permutations(range(k))), dtype=torch.long)
        gram = _gram(jac)
        base = case.solver.solve_gram(gram)
        permuted = case.solver.solve_gram(gram[perm][:, perm])
        s = float(scale_of(gram))
        tol = max(case.objective_tol * s, float(base.duality_gap), float(permuted.duality_gap))
        tol += 1e-12 * s
        assert abs(float(base.min_norm_sq - permuted.min_norm_sq)) <= tol
        # λ is unique when G is positive definite: then it must move with the objectives.
        if float(torch.linalg.eigvalsh(gram / s)[0]) > 1e-3 and name in ("exact", "cvxpy"):
            torch.testing.assert_close(permuted.weights, base.weights[perm], atol=1e-7, rtol=0)

    check()


@pytest.mark.parametrize("name", list(CASES))
def test_batched_equals_loop(name: str) -> None:
    case = CASES[name]

    @settings(max_examples=max(3, EXAMPLES[name] // 4))
    @given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 6), b=st.integers(1, 5))
    def check(seed: int, k: int, b: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        jac = torch.randn(b, 2, k, k + 1, generator=gen, dtype=torch.float64)
        jac[0, 0, -1] = jac[0, 0, 0]  # one degenerate problem in the batch
        gram = jac @ jac.mT
        batched = case.solver.solve_gram(gram)
        assert batched.weights.shape == (b, 2, k)
        for i in range(b):
            for j in range(2):
                single = case.solver.solve_gram(gram[i, j])
                s = float(scale_of(gram[i, j]))
                f_b = float(batched.min_norm_sq[i, j])
                assert abs(f_b - float(single.min_norm_sq)) <= 1e-9 * s
                # λ is not unique for the duplicated objective: there only f must agree
                # (one CPU problem runs in numpy, a batch in torch: rounding may pick the twin).
                if name != "cvxpy" and (i, j) != (0, 0):
                    torch.testing.assert_close(
                        batched.weights[i, j], single.weights, atol=1e-7, rtol=0
                    )

    check()


@settings(max_examples=40)
@given(jac=jacobians(kinds=["random", "duplicated", "low_rank", "zero_rows"]))
def test_exact_scale_invariance(jac: torch.Tensor) -> None:
    solver = MinNormSolver()
    gram = _gram(jac)
    base = solver.solve_gram(gram)
    s = float(scale_of(gram))
    unique = float(torch.linalg.eigvalsh(gram / s)[0]) > 1e-6
    for c in (2.0**-66, 3.0, 1e-20, 2.0**66, 1e20):
        scaled = solver.solve_gram(gram * c)
        if c in (2.0**-66, 2.0**66):
            # Scaling by a power of two is exact in floating point: bitwise the same answer.
            assert torch.equal(scaled.weights, base.weights)
        elif unique:
            torch.testing.assert_close(scaled.weights, base.weights, atol=1e-9, rtol=0)
        atol = 1e-12 * c * float(scale_of(gram))
        torch.testing.assert_close(scaled.min_norm_sq, base.min_norm_sq * c, rtol=1e-9, atol=atol)


@settings(max_examples=30)
@given(jac=jacobians(max_k=8, kinds=["random", "random", "duplicated", "low_rank"]))
def test_exact_matches_cvxpy(jac: torch.Tensor) -> None:
    gram = _gram(jac)
    exact = MinNormSolver().solve_gram(gram)
    reference = MinNormSolver("cvxpy").solve_gram(gram)
    # exact is never worse than the interior-point reference (beyond rounding) ...
    s = float(scale_of(gram))
    assert float(exact.min_norm_sq) <= float(reference.min_norm_sq) + 1e-12 * s
    # ... and agrees with it to 1e-9 relative, down to the reference's own absolute accuracy
    # (~1e-12·max G_ii for Clarabel: below it, exact is the more accurate of the two).
    f, ref = float(exact.min_norm_sq), float(reference.min_norm_sq)
    assert abs(f - ref) <= max(1e-9 * ref, 1e-12 * s), (f, ref, (f - ref) / ref)


@pytest.mark.parametrize("name", ["frank_wolfe", "projected_gradient"])
def test_iterative_methods_reach_exact_objective(name: str) -> None:
    case: MethodCase = CASES[name]

    @_given_for(name)
    @given(jac=jacobians(kinds=["random", "duplicated", "low_rank"]))
    def check(jac: torch.Tensor) -> None:
        gram = _gram(jac)
        res = case.solver.solve_gram(gram)
        exact = MinNormSolver().solve_gram(gram)
        s = float(scale_of(gram))
        gap = float(res.min_norm_sq - exact.min_norm_sq)
        # The certificate is truthful: f − f* ≤ duality gap (convexity), converged or not.
        assert -1e-12 * s <= gap <= float(res.duality_gap) + 1e-12 * s
        if bool(res.converged):
            assert gap <= case.objective_tol * s + 1e-12 * s

    check()


def test_one_table_names_every_method() -> None:
    assert mooptim.METHODS == tuple(BACKENDS) == tuple(CASES)
    assert mooptim.METHODS == ("exact", "frank_wolfe", "projected_gradient", "cvxpy")
    assert typing.get_args(Method) == mooptim.METHODS  # the type hint names the same methods
    for name, backend in BACKENDS.items():
        assert MinNormSolver(name).tol == backend.default_tol
    assert [name for name, b in BACKENDS.items() if b.host] == ["exact"]
