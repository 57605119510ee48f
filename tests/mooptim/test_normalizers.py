"""Gradient normalizers: formulas of MGDA-UB's gradient_normalizers, zero safety, Gram form."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mooptim import (
    NORMALIZERS,
    L2Normalization,
    LossL2Normalization,
    LossNormalization,
    NoNormalization,
    normalize_gram,
    normalize_vectors,
    normalizer_from_name,
)


def test_formulas() -> None:
    grads = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    losses = torch.tensor([2.0, 0.5])
    sq = (grads**2).sum(-1)
    torch.testing.assert_close(NoNormalization().scales(sq, losses), torch.ones(2))
    torch.testing.assert_close(L2Normalization().scales(sq), torch.tensor([5.0, 2.0]))
    torch.testing.assert_close(LossNormalization().scales(sq, losses), losses)
    torch.testing.assert_close(LossL2Normalization().scales(sq, losses), torch.tensor([10.0, 1.0]))


@pytest.mark.parametrize("name", ["none", "l2", "loss", "loss+"])
def test_zero_gradient_and_zero_loss_stay_finite(name: str) -> None:
    grads = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    losses = torch.tensor([0.0, 0.0, 1.0])
    scales = normalizer_from_name(name).scales((grads**2).sum(-1), losses)
    assert (scales > 0).all()
    out = normalize_vectors(grads, scales)
    assert torch.isfinite(out).all()
    assert (out[0] == 0).all()  # a zero gradient stays zero


def test_unknown_and_missing_losses() -> None:
    with pytest.raises(ValueError, match="unknown normalizer"):
        normalizer_from_name("l1")
    with pytest.raises(ValueError, match="needs the losses"):
        LossNormalization().scales(torch.ones(2))
    with pytest.raises(ValueError, match="≥ 0"):
        LossL2Normalization().scales(torch.ones(2), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="must match"):
        LossNormalization().scales(torch.ones(2), torch.ones(3))


@settings(max_examples=40)
@given(
    seed=st.integers(0, 2**31 - 1),
    k=st.integers(1, 6),
    name=st.sampled_from(["none", "l2", "loss", "loss+"]),
)
def test_gram_form_matches_vector_form(seed: int, k: int, name: str) -> None:
    gen = torch.Generator().manual_seed(seed)
    grads = torch.randn(3, k, 7, generator=gen, dtype=torch.float64)
    grads[0, 0] = 0
    losses = torch.rand(3, k, generator=gen, dtype=torch.float64)
    gram = grads @ grads.mT
    scales = normalizer_from_name(name).scales(gram.diagonal(dim1=-2, dim2=-1), losses)
    normed = normalize_vectors(grads, scales)
    torch.testing.assert_close(normalize_gram(gram, scales), normed @ normed.mT)
    if name == "l2":
        norms = normed.norm(dim=-1)
        torch.testing.assert_close(norms[1:], torch.ones_like(norms[1:]))


def test_names_are_exported_and_each_builds_its_normalizer() -> None:
    assert NORMALIZERS == ("none", "l2", "loss", "loss+")
    for name in NORMALIZERS:
        assert normalizer_from_name(name).name == name
    with pytest.raises(ValueError, match="choose one of"):
        normalizer_from_name("l1")
