"""Shared Gramian strategies and checks for every weighting of the family.

One definition of the hard inputs each method is tested on (rank-deficient, scaled 1e-8..1e8,
near-duplicate and opposed gradients) and of "the same answer as TorchJD".
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st
from torch import Tensor

SCALES = (1e-8, 1e-4, 1.0, 1e4, 1e8)


@st.composite
def jacobians(draw: st.DrawFn, min_k: int = 2, max_k: int = 8, max_d: int = 12) -> Tensor:
    """A float64 Jacobian ``[K, d]`` of one of the hard kinds, at a scale from 1e-8 to 1e8."""
    k = draw(st.integers(min_k, max_k))
    d = draw(st.integers(1, max_d))
    seed = draw(st.integers(0, 2**31 - 1))
    kind = draw(st.sampled_from(["generic", "rank_deficient", "near_duplicate", "opposed"]))
    scale = draw(st.sampled_from(SCALES))
    gen = torch.Generator().manual_seed(seed)
    j = torch.randn(k, d, generator=gen, dtype=torch.float64)
    if kind == "rank_deficient" and k > 1:
        rank = draw(st.integers(1, max(1, min(k - 1, d))))
        j = torch.randn(k, rank, generator=gen, dtype=torch.float64) @ torch.randn(
            rank, d, generator=gen, dtype=torch.float64
        )
    elif kind == "near_duplicate":
        j[1] = j[0] + 1e-6 * torch.randn(d, generator=gen, dtype=torch.float64)
    elif kind == "opposed":
        j[1] = -j[0] * (0.5 + torch.rand((), generator=gen, dtype=torch.float64))
    return j * scale


def gramian_of(jacobian: Tensor) -> Tensor:
    """The symmetric Gramian ``J Jᵀ`` of a Jacobian."""
    g = jacobian @ jacobian.T
    return 0.5 * (g + g.T)


def random_gramians(batch: int, k: int, d: int | None = None, seed: int = 0) -> Tensor:
    """``[batch, K, K]`` float64 Gramians of random Jacobians (full rank when ``d ≥ K``)."""
    gen = torch.Generator().manual_seed(seed)
    j = torch.randn(batch, k, d or k + 2, generator=gen, dtype=torch.float64)
    g = j @ j.mT
    return 0.5 * (g + g.mT)


def assert_close_relative(ours: Tensor, reference: Tensor, rtol: float, what: str = "") -> None:
    """``‖ours − reference‖_∞ ≤ rtol · max(1, ‖reference‖_∞)``, with a message naming both."""
    ours, reference = ours.to(torch.float64), reference.to(torch.float64)
    err = float((ours - reference).abs().max())
    bound = rtol * max(1.0, float(reference.abs().max()))
    assert err <= bound, f"{what}: max |ours - reference| = {err:.3g} > {bound:.3g}\n" + (
        f"ours      = {ours.tolist()}\nreference = {reference.tolist()}"
    )
