"""The batched torch implementation of Wolfe's method: both loops (CPU and accelerators) agree."""

from __future__ import annotations

import torch

from mooptim._wolfe_batched import min_norm_2, wolfe_min_norm


def _normalised_grams(k: int, d: int, batch: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    jac = torch.randn(batch, k, d, generator=gen, dtype=torch.float64)
    gram = jac @ jac.mT
    return gram / gram.diagonal(dim1=-2, dim2=-1).amax(-1)[:, None, None]


def test_accelerator_code_path_matches_cpu_path() -> None:
    """The lockstep loop without compaction (used on GPUs) gives the same answers."""
    gram = _normalised_grams(7, 5, batch=64, seed=6)
    lam_a, it_a, ok_a = wolfe_min_norm(gram, compact=True)
    lam_b, it_b, ok_b = wolfe_min_norm(gram, compact=False)
    torch.testing.assert_close(lam_a, lam_b, atol=1e-12, rtol=0)
    assert torch.equal(it_a, it_b) and ok_a.all() and ok_b.all()


def test_two_objectives_closed_form_ties_are_symmetric() -> None:
    same = torch.tensor([[[1.0, 1.0], [1.0, 1.0]], [[0.5, 0.5], [0.5, 1.0]]], dtype=torch.float64)
    lam = min_norm_2(same)
    torch.testing.assert_close(lam[0], torch.tensor([0.5, 0.5], dtype=torch.float64))
    torch.testing.assert_close(lam[1], torch.tensor([1.0, 0.0], dtype=torch.float64))
