"""What the UPGrad and DualProj tests share: the comparison with TorchJD 0.18 on hard Gramians."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mooptim.weightings import Weighting
from tests.mooptim.weightings._checks import assert_close_relative, gramian_of


def check_against_torchjd(
    ours: Weighting, reference: Callable[[Tensor], Tensor], jacobian: Tensor
) -> None:
    """Same weights as TorchJD's weighting on the float64 Gramian of ``jacobian`` (1e-6 rel.)."""
    gram = gramian_of(jacobian)
    assert_close_relative(ours(gram), reference(gram), 1e-6, f"{ours!r} vs TorchJD")


def check_never_conflicts(weights: Tensor, gram: Tensor, reg_eps: float = 1e-4) -> None:
    """``Gw ≥ −reg_eps·tr(G)·w``: the direction ``Jᵀw`` does not conflict with any objective
    (up to the ridge; exactly ``Hw ≥ 0`` on the regularised Gramian ``H``)."""
    trace = gram.diagonal(dim1=-2, dim2=-1).sum(-1, keepdim=True)
    slack = (gram @ weights.unsqueeze(-1)).squeeze(-1) + reg_eps * trace * weights
    assert bool((slack >= -1e-9 * trace * weights.abs().amax(-1, keepdim=True)).all()), slack


def batched_case(seed: int = 0) -> tuple[Tensor, list[Tensor]]:
    """``[2, 3, 5, 5]`` Gramians (rank-deficient ones included) and the same as a flat list."""
    gen = torch.Generator().manual_seed(seed)
    j = torch.randn(6, 5, 3, generator=gen, dtype=torch.float64)
    gram = j @ j.mT
    return gram.reshape(2, 3, 5, 5), list(gram)
