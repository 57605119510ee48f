"""Wolfe's method in plain floats for one small problem."""

from __future__ import annotations

import torch
from _asserts import assert_valid, method_cases

from mooptim import MinNormSolver
from mooptim._wolfe_rows import wolfe_min_norm_rows

EXACT = next(c for c in method_cases() if c.name == "exact")


def _jacobian(k: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(k, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_warm_start_on_dependent_objectives_falls_back() -> None:
    """A warm support that is not affinely independent (two identical objectives) still solves."""
    jac = _jacobian(6, 4, seed=1)
    jac[1] = jac[0]
    gram = jac @ jac.T
    rows, s = gram.tolist(), float(gram.diagonal().max())
    warm = [0.5, 0.5, 0.0, 0.0, 0.0, 0.0]
    support, coef, _, converged = wolfe_min_norm_rows(rows, s, warm)
    lam = torch.zeros(6, dtype=torch.float64)
    lam[support] = torch.tensor(coef, dtype=torch.float64)
    ref = MinNormSolver().solve_gram(gram)
    assert converged
    assert abs(float(lam @ gram @ lam) - float(ref.min_norm_sq)) <= 1e-12 * s
    res = MinNormSolver().solve_gram(gram, warm_start=torch.tensor(warm, dtype=torch.float64))
    assert_valid(res, gram, EXACT)
