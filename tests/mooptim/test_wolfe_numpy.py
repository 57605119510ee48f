"""Wolfe's method with numpy for one CPU problem, and its twins of the checks and certificate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mooptim._certificate import kkt_certificate, project_to_simplex_safe
from mooptim._wolfe_batched import wolfe_min_norm
from mooptim._wolfe_numpy import (
    kkt_certificate_numpy,
    project_to_simplex_numpy,
    validate_gram_numpy,
    wolfe_min_norm_numpy,
)


def _normalised_gram(k: int, d: int, seed: int) -> np.ndarray:
    jac = np.random.default_rng(seed).standard_normal((k, d))
    gram = jac @ jac.T
    return gram / np.diagonal(gram).max()


@pytest.mark.parametrize("k", [3, 16, 30])
def test_same_iterates_as_the_batched_loop(k: int) -> None:
    gram = _normalised_gram(k, k // 2 + 2, seed=k)
    lam, iters, ok = wolfe_min_norm_numpy(gram)
    ref, ref_iters, ref_ok = wolfe_min_norm(torch.from_numpy(gram).unsqueeze(0))
    np.testing.assert_allclose(lam, ref[0].numpy(), atol=1e-9, rtol=0)
    assert ok and bool(ref_ok[0]) and iters == int(ref_iters[0])


def test_twins_match_torch() -> None:
    gram = _normalised_gram(6, 4, seed=1)
    lam = np.array([0.1, 0.0, 0.4, 0.0, 0.5, 0.0])
    ours = kkt_certificate_numpy(gram, lam)
    theirs = kkt_certificate(torch.from_numpy(gram), torch.from_numpy(lam))
    for a, b in zip(ours, theirs, strict=True):
        assert a == pytest.approx(float(b), rel=1e-12, abs=1e-15)
    raw = np.array([0.2, -1e-17, np.nan, 0.6])
    np.testing.assert_array_equal(
        project_to_simplex_numpy(raw), project_to_simplex_safe(torch.from_numpy(raw)).numpy()
    )
    with pytest.raises(ValueError, match="not positive semidefinite"):
        validate_gram_numpy(np.array([[1.0, 2.0], [2.0, 1.0]]), 1e-8)
