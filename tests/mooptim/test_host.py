"""One CPU problem, exact method: plain floats, numpy and the batched torch loop agree.

One CPU problem is solved in plain Python floats (K ≤ ``SMALL_K``) or with numpy (larger K);
batches go through the lockstep torch loop. All must meet the shared correctness checks and agree.
"""

from __future__ import annotations

import pytest
import torch
from _asserts import assert_valid, method_cases, scale_of
from hypothesis import given, settings
from hypothesis import strategies as st

import mooptim._host as host_module
from mooptim import MinNormSolver

EXACT = next(c for c in method_cases() if c.name == "exact")


def _jacobian(k: int, d: int, kind: str, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    jac = torch.randn(k, d, generator=gen, dtype=torch.float64)
    if kind == "shared":  # positively correlated, as gradients of related tasks
        jac = jac + 2 * torch.randn(1, d, generator=gen, dtype=torch.float64)
    elif kind == "duplicated":
        jac[k // 2 :] = jac[: k - k // 2].clone()
    elif kind == "low_rank":
        jac = torch.randn(k, 2, generator=gen, dtype=torch.float64) @ jac[:2]
    return jac


def _solve_with_small_k(gram: torch.Tensor, small_k: int, **options: object):
    old = host_module.SMALL_K
    host_module.SMALL_K = small_k
    try:
        return MinNormSolver(**options).solve_gram(gram)
    finally:
        host_module.SMALL_K = old


@settings(max_examples=60)
@given(
    k=st.integers(3, 24),
    kind=st.sampled_from(["random", "shared", "duplicated", "low_rank"]),
    seed=st.integers(0, 2**31 - 1),
    exponent=st.integers(-12, 12),
)
def test_python_numpy_and_batched_paths_agree(k: int, kind: str, seed: int, exponent: int) -> None:
    jac = _jacobian(k, max(2, k // 2 + 1), kind, seed) * 10.0**exponent
    gram = jac @ jac.T
    python = _solve_with_small_k(gram, small_k=k)
    numpy = _solve_with_small_k(gram, small_k=0)
    batched = MinNormSolver().solve_gram(gram.unsqueeze(0))
    s = float(scale_of(gram))
    for res in (python, numpy):
        assert_valid(res, gram, EXACT)
    f = float(python.min_norm_sq)
    for other in (numpy.min_norm_sq, batched.min_norm_sq[0]):
        assert abs(f - float(other)) <= 1e-12 * s
    if float(torch.linalg.eigvalsh(gram / s)[0]) > 1e-6:  # unique minimiser: same weights
        torch.testing.assert_close(python.weights, numpy.weights, atol=1e-8, rtol=0)
        torch.testing.assert_close(python.weights, batched.weights[0], atol=1e-8, rtol=0)


@pytest.mark.parametrize("k", [5, host_module.SMALL_K, host_module.SMALL_K + 1, 40])
def test_default_path_is_valid_on_either_side_of_the_threshold(k: int) -> None:
    for kind in ("random", "shared", "duplicated", "low_rank"):
        jac = _jacobian(k, k + 3, kind, seed=k)
        gram = jac @ jac.T
        assert_valid(MinNormSolver().solve_gram(gram), gram, EXACT)
        vectors = MinNormSolver().solve(jac)
        torch.testing.assert_close(
            vectors.min_norm_sq, MinNormSolver().solve_gram(gram).min_norm_sq, rtol=1e-9, atol=0
        )


@pytest.mark.parametrize("k", [4, 20])
def test_indefinite_gram_rejected_on_both_host_paths(k: int) -> None:
    gram = torch.eye(k, dtype=torch.float64)
    gram[0, 1] = gram[1, 0] = 1.5  # eigenvalue -0.5
    with pytest.raises(ValueError, match="not positive semidefinite"):
        MinNormSolver().solve_gram(gram)


@pytest.mark.parametrize("k", [4, 20])
def test_unchecked_input_is_still_symmetrised(k: int) -> None:
    gram = _jacobian(k, k, "shared", seed=3)
    gram = gram @ gram.T
    skew = torch.zeros_like(gram)
    skew[0, 1], skew[1, 0] = 1e-3, -1e-3
    res = MinNormSolver(check_input=False).solve_gram(gram + skew * float(gram.max()))
    ref = MinNormSolver().solve_gram(gram)
    torch.testing.assert_close(res.weights, ref.weights, atol=1e-9, rtol=0)


def test_power_of_two_scaling_is_bitwise_on_the_python_path() -> None:
    jac = _jacobian(9, 5, "shared", seed=4)
    gram = jac @ jac.T
    base = MinNormSolver().solve_gram(gram)
    for c in (2.0**-70, 2.0**70):
        assert torch.equal(MinNormSolver().solve_gram(gram * c).weights, base.weights)
