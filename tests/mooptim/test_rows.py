"""Plain-float twins of the Gram checks and the certificate."""

from __future__ import annotations

import pytest
import torch

from mooptim._certificate import kkt_certificate
from mooptim._rows import (
    cholesky_rows,
    dense_weights,
    is_finite_rows,
    kkt_certificate_rows,
    symmetrize_rows,
    validate_gram_rows,
)
from mooptim._validation import validate_gram


def _jacobian(k: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(k, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_cholesky_rows_matches_torch_and_detects_indefinite() -> None:
    jac = _jacobian(7, 9, seed=2)
    gram = jac @ jac.T
    low = cholesky_rows(gram.tolist())
    assert low is not None
    dense = torch.zeros(7, 7, dtype=torch.float64)
    for i, row in enumerate(low):
        dense[i, : i + 1] = torch.tensor(row, dtype=torch.float64)
    torch.testing.assert_close(dense, torch.linalg.cholesky(gram), rtol=1e-12, atol=1e-12)
    assert cholesky_rows([[1.0, 2.0], [2.0, 1.0]]) is None
    assert cholesky_rows([[0.0]]) is None and cholesky_rows([[0.0]], shift=1e-9) is not None


def test_validation_matches_torch_twin() -> None:
    jac = _jacobian(5, 3, seed=1)
    gram = jac @ jac.T
    skew = torch.zeros_like(gram)
    skew[0, 1], skew[1, 0] = 1e-12, -1e-12
    rows = validate_gram_rows((gram + skew).tolist(), 1e-8)
    assert rows == validate_gram(gram + skew, tol=1e-8).tolist()
    for bad, match in ((float("nan"), "NaN or Inf"), (5.0, "not symmetric")):
        g = gram.clone()
        g[0, 1] = bad
        with pytest.raises(ValueError, match=match):
            validate_gram_rows(g.tolist(), 1e-8)
    assert not is_finite_rows([[1.0, float("inf")], [0.0, 1.0]])
    assert is_finite_rows([[1e308, 1e308], [1e308, 1e308]])  # the sum overflows, no entry does
    exact = gram.tolist()
    assert symmetrize_rows(exact) is exact


def test_certificate_matches_torch_twin() -> None:
    jac = _jacobian(6, 4, seed=2)
    gram = jac @ jac.T
    support, coef = [1, 3, 4], [0.2, 0.5, 0.3]
    lam = torch.tensor(dense_weights(6, support, coef), dtype=torch.float64)
    s = float(gram.diagonal().max())
    ours = kkt_certificate_rows(gram.tolist(), support, coef, s)
    theirs = kkt_certificate(gram, lam)
    for a, b in zip(ours, theirs, strict=True):
        assert a == pytest.approx(float(b), rel=1e-12, abs=1e-15)
