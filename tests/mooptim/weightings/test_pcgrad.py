"""PCGrad: TorchJD's weights for the same projection orders, and the surgery's properties.

TorchJD draws one ``torch.randperm(K)`` per objective from torch's global RNG; ours draws all
orders of a batch at once from its own generator, so the draws differ. The comparison is made
deterministic by handing TorchJD our orders: ``torch.randperm`` is replaced, for the TorchJD call,
by a function returning our permutations in the order TorchJD asks for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchjd.aggregation import PCGradWeighting as TorchJDPCGrad

from mooptim.weightings import (
    PCGradWeighting,
    pcgrad_coefficients,
    pcgrad_permutations,
    pcgrad_weights,
)
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)


def _torchjd_with_orders(
    gram: torch.Tensor, orders: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> torch.Tensor:
    supplied: Iterator[torch.Tensor] = iter(orders)
    with monkeypatch.context() as patch:
        patch.setattr(torch, "randperm", lambda n, *args, **kwargs: next(supplied).clone())
        return TorchJDPCGrad()(gram)


@given(jacobians(), st.integers(0, 2**31 - 1))
def test_matches_torchjd_for_the_same_orders(jacobian: torch.Tensor, seed: int) -> None:
    gram = gramian_of(jacobian)
    orders = pcgrad_permutations(gram, torch.Generator().manual_seed(seed))
    with pytest.MonkeyPatch.context() as monkeypatch:
        reference = _torchjd_with_orders(gram, orders, monkeypatch)
    assert_close_relative(pcgrad_weights(gram, orders), reference, 1e-6, "pcgrad vs TorchJD")


@given(jacobians(min_k=2, max_k=2))
def test_two_objectives_need_no_order(jacobian: torch.Tensor) -> None:
    """K = 2: each gradient has one other to be projected off, so TorchJD is deterministic."""
    gram = gramian_of(jacobian)
    ours = PCGradWeighting(seed=0)(gram)
    assert_close_relative(ours, TorchJDPCGrad()(gram), 1e-6, "pcgrad K=2 vs TorchJD")


@given(jacobians(), st.integers(0, 2**31 - 1))
def test_projected_gradients_no_longer_conflict_with_the_last_one(jacobian, seed) -> None:
    """After its projections, ``g_i^PC`` does not conflict with the last g_j it was tested on.

    (A projection off g_j makes ``⟨g_i^PC, g_j⟩ = 0``; no projection means it was ≥ 0.)
    """
    gram = gramian_of(jacobian)
    k = gram.shape[0]
    orders = pcgrad_permutations(gram, torch.Generator().manual_seed(seed))
    coefficients = pcgrad_coefficients(gram, orders)
    assert torch.equal(coefficients.sum(0), pcgrad_weights(gram, orders))
    for i in range(k):
        last = [j for j in orders[i].tolist() if j != i][-1]
        inner = float(gram[last] @ coefficients[i])
        # ⟨g_i^PC, g_last⟩ up to the rounding of the inner products, ‖g_i^PC‖ ≤ ‖g_i‖.
        tolerance = 1e-12 * float(gram.diagonal().max()) * k
        assert inner >= -tolerance, (i, last, inner)


def test_no_conflict_gives_the_sum() -> None:
    """Gradients with non-negative inner products are not touched: w = 1 (Σ_i g_i)."""
    jacobian = torch.rand(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    weights = PCGradWeighting(seed=0)(gramian_of(jacobian))
    assert torch.equal(weights, torch.ones(4, dtype=torch.float64))


def test_batched_orders_match_one_call_per_problem() -> None:
    grams = random_gramians(6, 4, d=3, seed=5)
    orders = pcgrad_permutations(grams, torch.Generator().manual_seed(1))
    batched = pcgrad_weights(grams, orders)
    for b in range(6):
        assert_close_relative(batched[b], pcgrad_weights(grams[b], orders[b]), 1e-12, f"{b}")


def test_zero_gradient_conflicts_with_nothing() -> None:
    gram = gramian_of(torch.tensor([[1.0, 0.0], [0.0, 0.0], [-1.0, 1.0]], dtype=torch.float64))
    weights = PCGradWeighting(seed=3)(gram)
    assert bool(torch.isfinite(weights).all()) and float(weights[1]) == 1.0


def test_seeded_and_resumable() -> None:
    gram = random_gramians(3, 5, seed=9)
    weighting = PCGradWeighting(seed=4)
    state = weighting.state_dict()
    first = weighting(gram)
    weighting.load_state_dict(state)
    assert torch.equal(weighting(gram), first)
    assert torch.equal(PCGradWeighting(seed=4)(gram), first)


def test_orders_are_uniform() -> None:
    """Each of the 3! orders of K = 3 objectives is drawn with frequency 1/6 (fixed seed)."""
    gram = torch.zeros(20_000, 3, 3, dtype=torch.float64)
    orders = pcgrad_permutations(gram, torch.Generator().manual_seed(0)).reshape(-1, 3)
    codes = orders[:, 0] * 9 + orders[:, 1] * 3 + orders[:, 2]
    _, counts = codes.unique(return_counts=True)
    assert counts.numel() == 6
    frequencies = counts.double() / codes.numel()
    assert float((frequencies - 1 / 6).abs().max()) < 0.005, frequencies.tolist()
