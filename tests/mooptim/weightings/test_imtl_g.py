"""IMTL-G: TorchJD's weights on the same Gramian, and the impartiality it is named for."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchjd.aggregation import IMTLGWeighting as TorchJDIMTLG

from mooptim.weightings import IMTLGWeighting, imtl_g_weights
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)


def _unit_diagonal(gram: torch.Tensor) -> torch.Tensor:
    """G / 4^k with max_i G_ii in [1/4, 1): an exact rescaling."""
    _, exponent = math.frexp(float(gram.diagonal().max()))
    return gram * 4.0 ** -(exponent // 2)


@given(jacobians())
def test_matches_torchjd(jacobian: torch.Tensor) -> None:
    """Ours = TorchJD on G scaled to a unit diagonal; = TorchJD on G unless its zero test fires.

    TorchJD returns 0 when ``|Σ v| < 1e-12`` with ``v = G⁺ d ~ 1/‖g‖``: at large gradient scales
    (1e8) it zeroes weights that are well defined (two opposed gradients of different lengths),
    at small ones (1e-8) it never zeroes. Ours applies the test at unit scale.
    """
    gram = gramian_of(jacobian)
    ours = IMTLGWeighting()(gram)
    at_unit_scale = TorchJDIMTLG()(_unit_diagonal(gram))
    assert_close_relative(ours, at_unit_scale, 1e-6, "imtl_g vs TorchJD at unit scale")
    reference = TorchJDIMTLG()(gram)
    if bool(reference.any()) == bool(ours.any()):
        assert_close_relative(ours, reference, 1e-6, "imtl_g vs TorchJD")
    else:
        assert float(jacobian.abs().max()) >= 1e4 or float(jacobian.abs().max()) <= 1e-4


@given(jacobians(), st.sampled_from([4.0**-20, 4.0**-3, 4.0, 4.0**20]))
def test_scale_invariant(jacobian: torch.Tensor, factor: float) -> None:
    """w(cG) = w(G), zero test included, for powers of four c (cG and √diag(cG) exact).

    Any other c rounds G and d, and near-duplicate gradients (cond(G) ~ 1e12) amplify that
    rounding to 1e-4 in w: the weights are ill-conditioned there, for TorchJD as for us.
    """
    gram = gramian_of(jacobian)
    weighting = IMTLGWeighting()
    assert_close_relative(weighting(factor * gram), weighting(gram), 1e-9, "w(cG) vs w(G)")


@given(jacobians(max_d=3).filter(lambda j: j.shape[1] >= j.shape[0]) | jacobians(max_k=3))
def test_equal_projections_on_unit_gradients(jacobian: torch.Tensor) -> None:
    """Full-rank G: ⟨Σ w_j g_j, g_i/‖g_i‖⟩ is the same for every i and Σ w = 1."""
    gram = gramian_of(jacobian)
    eigenvalues = torch.linalg.eigvalsh(gram)
    if eigenvalues[0] <= 1e-6 * eigenvalues[-1]:
        return  # rank-deficient or ill-conditioned: the projections need not be equal
    weights = IMTLGWeighting()(gram)
    projections = (gram @ weights) / gram.diagonal().sqrt()
    assert_close_relative(weights.sum(), torch.tensor(1.0), 1e-9, "sum of weights")
    spread = float(projections.max() - projections.min())
    assert spread <= 1e-6 * float(projections.abs().max()), projections.tolist()


def test_zero_gramian_gives_zero_weights_like_torchjd() -> None:
    gram = torch.zeros(3, 3, dtype=torch.float64)
    assert torch.equal(IMTLGWeighting()(gram), torch.zeros(3, dtype=torch.float64))
    assert torch.equal(TorchJDIMTLG()(gram), torch.zeros(3, dtype=torch.float64))


def test_zero_test_is_scale_free_unlike_torchjd() -> None:
    """Two exactly opposed equal gradients: Σ v = 0 up to rounding, so the weights are 0.

    At the scale of 1e-8 gradients TorchJD's absolute test ``|Σ v| < 1e-12`` misses the
    rounding residue (``v`` is ~1e8) and returns meaningless weights (here [0, 1]); ours are 0
    at every scale.
    """
    g = torch.randn(2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))[1:]
    tiny = gramian_of(1e-8 * torch.cat([g, -g]))
    assert bool(TorchJDIMTLG()(tiny).any())
    for scale in (1e-8, 1.0, 1e8):
        weights = IMTLGWeighting()(gramian_of(scale * torch.cat([g, -g])))
        assert torch.equal(weights, torch.zeros(2, dtype=torch.float64)), (scale, weights)


def test_batched_is_per_problem() -> None:
    grams = random_gramians(7, 4, d=3, seed=2).reshape(7, 4, 4)
    batched = imtl_g_weights(grams)
    for i, gram in enumerate(grams):
        assert_close_relative(batched[i], TorchJDIMTLG()(gram), 1e-9, f"problem {i}")


def test_mixed_batch_cholesky_and_pinv_problems_match_torchjd() -> None:
    """Well-conditioned problems take G⁻¹d (Cholesky), rank-deficient ones the pseudo-inverse:
    in one batch, each still equals TorchJD's pinv on it."""
    full = random_gramians(4, 4, d=8, seed=3).reshape(4, 4, 4)
    deficient = random_gramians(4, 4, d=2, seed=4).reshape(4, 4, 4)
    grams = torch.stack([full[0], deficient[0], full[1], deficient[1], full[2], deficient[2]])
    batched = imtl_g_weights(grams)
    for i, gram in enumerate(grams):
        assert_close_relative(batched[i], TorchJDIMTLG()(gram), 1e-9, f"problem {i}")


def test_negative_diagonal_names_the_problem() -> None:
    grams = random_gramians(3, 2)
    grams[1, 1, 1] = -1.0
    with pytest.raises(ValueError, match=r"negative diagonal.*problem 1 of the batch"):
        IMTLGWeighting()(grams)
