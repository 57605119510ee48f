"""Aligned-MTL: TorchJD's weights on the same Gramian, every scale mode, and the alignment."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchjd.aggregation import AlignedMTLWeighting as TorchJDAlignedMTL

from mooptim.weightings import AlignedMTLWeighting, aligned_mtl_weights
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)

SCALE_MODES = st.sampled_from(["min", "median", "rmse"])


@given(jacobians(), SCALE_MODES)
def test_matches_torchjd(jacobian: torch.Tensor, scale_mode: str) -> None:
    gram = gramian_of(jacobian)
    ours = AlignedMTLWeighting(scale_mode=scale_mode)(gram)
    reference = TorchJDAlignedMTL(scale_mode=scale_mode)(gram)
    assert_close_relative(ours, reference, 1e-6, f"aligned_mtl[{scale_mode}] vs TorchJD")


@given(jacobians(), st.data())
def test_matches_torchjd_with_a_preference_vector(jacobian: torch.Tensor, data: st.DataObject):
    k = jacobian.shape[0]
    pref = data.draw(st.lists(st.floats(0.0, 3.0), min_size=k, max_size=k))
    gram = gramian_of(jacobian)
    ours = AlignedMTLWeighting(pref_vector=pref)(gram)
    reference = TorchJDAlignedMTL(pref_vector=torch.tensor(pref, dtype=torch.float64))(gram)
    assert_close_relative(ours, reference, 1e-6, "aligned_mtl with pref_vector vs TorchJD")


@given(jacobians(min_k=2, max_k=5))
def test_combined_gradients_have_equal_singular_values(jacobian: torch.Tensor) -> None:
    """The balanced system ``B J`` has all its singular values equal to √σ = √λ_min.

    ``(BJ)(BJ)ᵀ = B G B = σ I`` on a full-rank G: every principal direction of the gradients
    gets the same magnitude, the alignment the method is named for. (Tested where G is well
    conditioned: where it is not, σ is the rounding-dominated smallest eigenvalue.)
    """
    gram = gramian_of(jacobian)
    eigenvalues = torch.linalg.eigvalsh(gram)
    if eigenvalues[0] <= 1e-6 * eigenvalues[-1]:
        return
    k = gram.shape[0]
    # The columns of B are the weights of the unit preference vectors.
    balance = torch.stack(
        [AlignedMTLWeighting(pref_vector=torch.eye(k)[i].tolist())(gram) for i in range(k)], 1
    )
    singular = torch.linalg.svdvals(balance @ jacobian)
    ones = torch.ones_like(singular)
    assert_close_relative(singular / eigenvalues[0].sqrt(), ones, 1e-6, "σ(BJ) / √λ_min")


def test_zero_gramian_returns_the_preference_vector_like_torchjd() -> None:
    gram = torch.zeros(3, 3, dtype=torch.float64)
    assert torch.equal(AlignedMTLWeighting()(gram), torch.full((3,), 1 / 3, dtype=torch.float64))
    assert torch.equal(TorchJDAlignedMTL()(gram), torch.full((3,), 1 / 3, dtype=torch.float64))


def test_batch_mixes_ranks() -> None:
    """Problems of different numerical ranks in one batch: each matches its own TorchJD call."""
    full = random_gramians(3, 4, d=6, seed=3)
    low = random_gramians(3, 4, d=2, seed=4)
    grams = torch.cat([full, low, torch.zeros(1, 4, 4, dtype=torch.float64)])
    for mode in ("min", "median", "rmse"):
        batched = aligned_mtl_weights(grams, scale_mode=mode)
        for i, gram in enumerate(grams):
            reference = TorchJDAlignedMTL(scale_mode=mode)(gram)
            assert_close_relative(batched[i], reference, 1e-9, f"{mode}, problem {i}")


def test_bad_hyperparameters_are_named() -> None:
    with pytest.raises(ValueError, match="scale_mode"):
        AlignedMTLWeighting(scale_mode="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pref_vector has 2 entries for K = 3"):
        AlignedMTLWeighting(pref_vector=[0.5, 0.5])(random_gramians(1, 3)[0])
