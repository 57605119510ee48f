"""A float32 Gram of more objectives than dimensions is weighted, not refused.

``V Vᵀ`` of float32 rows spanning fewer dimensions than there are rows is singular, and its
rounding leaves a smallest eigenvalue of about −1e-7·max|G_ii|: inside float32's PSD tolerance,
outside float64's. The step solves on a float64 copy of the sub-Gram; the check must still use
the tolerance of the dtype the Gram was computed in (it refused these before).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mooptim import MinNormWeighting, ObjectiveWeighting, Subspace
from mooptim.weightings import WEIGHTINGS

K, RANK, DIM = 6, 3, 4096
SEEDS = range(8)


def _vectors(seed: int) -> torch.Tensor:
    """K float64 rows in a RANK-dim subspace; positive coefficients keep 0 out of their hull."""
    g = torch.Generator().manual_seed(seed)
    basis = torch.randn(RANK, DIM, generator=g, dtype=torch.float64)
    coefficients = 0.5 + torch.rand(K, RANK, generator=g, dtype=torch.float64)
    return coefficients @ basis


def _losses() -> list[torch.Tensor]:
    return [torch.tensor(1.0, requires_grad=True) for _ in range(K)]


def _subspace() -> Subspace:
    return Subspace.all(nn.Linear(2, 1))


def test_the_float32_grams_are_indefinite_beyond_float64_tolerance() -> None:
    # the premise: without it the tests below would pass trivially
    worst = 0.0
    for seed in SEEDS:
        v = _vectors(seed).float()
        gram = (v @ v.T).double()
        worst = min(worst, float(torch.linalg.eigvalsh(gram)[0] / gram.diagonal().max()))
    assert worst < -K * torch.finfo(torch.float64).eps ** 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_mgda_weights_a_rank_deficient_float32_gram(seed: int) -> None:
    v64 = _vectors(seed)
    out = MinNormWeighting(_subspace()).combine_vectors(v64.float(), _losses())
    reference = MinNormWeighting(_subspace()).combine_vectors(v64, _losses())
    assert out.weights.dtype == torch.float32
    assert bool((out.weights >= 0).all())
    torch.testing.assert_close(out.weights.sum(), torch.tensor(1.0), rtol=0, atol=1e-6)
    torch.testing.assert_close(out.weights.double(), reference.weights, rtol=0, atol=1e-4)
    # the min-norm point agrees to float32 accuracy of the Gram's scale
    scale = float(v64.square().sum(-1).max())
    assert abs(float(out.min_norm_sq) - float(reference.min_norm_sq)) <= 1e-5 * scale


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_every_weighting_takes_a_rank_deficient_float32_gram(name: str) -> None:
    for seed in SEEDS:
        weighting = ObjectiveWeighting(_subspace(), name)
        out = weighting.combine_vectors(_vectors(seed).float(), _losses())
        assert out.weights.shape == (K,) and bool(torch.isfinite(out.weights).all()), seed
