"""PCGrad: project each gradient off the gradients it conflicts with, in random order, and sum.

Yu et al. 2020, "Gradient Surgery for Multi-Task Learning" (NeurIPS), Algorithm 1, as weights on
the Gramian (TorchJD's ``PCGradWeighting``). For each objective i, start from ``g_i^PC = g_i``
and, for the other objectives j in a random order, if ``⟨g_i^PC, g_j⟩ < 0`` replace
``g_i^PC ← g_i^PC − ⟨g_i^PC, g_j⟩ / ‖g_j‖² · g_j``; the update is ``Σ_i g_i^PC``. Written with
``g_i^PC = Σ_j c_ij g_j``, every inner product is a row of G times c, so the weights
``w_j = Σ_i c_ij`` need only G. The weights sum to about K (the sum, not the mean, of the
projected gradients, as in the paper and TorchJD).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._seeding import SeededWeighting

__all__ = ["PCGradWeighting", "pcgrad_coefficients", "pcgrad_permutations", "pcgrad_weights"]


def pcgrad_permutations(gramian: Tensor, generator: torch.Generator) -> Tensor:
    """``[..., K, K]`` int64: row i of each problem, a uniform random order of the K objectives.

    Drawn on the generator's device (argsort of uniform draws) and moved to the Gramian's.
    """
    shape = (*gramian.shape[:-1], gramian.shape[-1])
    uniform = torch.rand(shape, generator=generator, dtype=torch.float64, device=generator.device)
    return uniform.argsort(-1).to(gramian.device)


def pcgrad_weights(gramian: Tensor, permutations: Tensor) -> Tensor:
    """``[..., K]`` PCGrad weights ``Σ_i c_i·`` of Gramians ``[..., K, K]`` for the given orders.

    See :func:`pcgrad_coefficients` for the arguments.
    """
    return pcgrad_coefficients(gramian, permutations).sum(-2)


def pcgrad_coefficients(gramian: Tensor, permutations: Tensor) -> Tensor:
    """``[..., K, K]``: row i holds the coefficients of ``g_i^PC = Σ_j c_ij g_j``.

    Args:
        gramian: ``[..., K, K]`` PSD Gramians.
        permutations: ``[..., K, K]`` int64; ``permutations[..., i, :]`` is the order in which
            ``g_i^PC`` is projected off the other gradients (the entry i itself is skipped), as
            TorchJD's ``torch.randperm(K)`` for objective i.
    """
    k = gramian.shape[-1]
    batch_shape = gramian.shape[:-2]
    flat = gramian.reshape(-1, k, k)
    orders = permutations.reshape(-1, k, k).to(gramian.device)
    # coefficients[b, i, :] = c_i·, the weights of g_i^PC on the original gradients.
    coefficients = torch.eye(k, dtype=flat.dtype, device=flat.device).repeat(flat.shape[0], 1, 1)
    squared_norms = flat.diagonal(dim1=-2, dim2=-1)
    self_index = torch.arange(k, device=flat.device)
    for position in range(k):
        other = orders[:, :, position]  # [B, K]: the j that each g_i^PC is tested against now
        rows = flat.gather(1, other[..., None].expand(-1, -1, k))  # G[b, j, :]
        inner = (rows * coefficients).sum(-1)  # ⟨g_i^PC, g_j⟩
        norm_j = squared_norms.gather(1, other)
        # A zero gradient g_j (G_jj = 0) conflicts with nothing; the guard also keeps a
        # non-PSD input from dividing by zero.
        conflict = (inner < 0) & (other != self_index) & (norm_j > 0)
        step = torch.where(conflict, inner / torch.where(conflict, norm_j, 1.0), 0.0)
        coefficients.scatter_add_(2, other[..., None], -step[..., None])
    return coefficients.reshape(*batch_shape, k, k)


def _pcgrad_numpy(gramian: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """:func:`pcgrad_weights` of one ``[K, K]`` Gramian and its ``[K, K]`` orders, in numpy.

    The same loop as :func:`pcgrad_coefficients` (one problem is dispatch-bound in torch).
    """
    k = gramian.shape[-1]
    coefficients = np.eye(k)
    squared_norms = gramian.diagonal()
    self_index = np.arange(k)
    for position in range(k):
        other = orders[:, position]
        inner = (gramian[other] * coefficients).sum(-1)
        norm_j = squared_norms[other]
        conflict = (inner < 0) & (other != self_index) & (norm_j > 0)
        step = np.where(conflict, inner / np.where(conflict, norm_j, 1.0), 0.0)
        coefficients[self_index, other] -= step  # row i changes in one column: no repeats
    return coefficients.sum(-2)


class PCGradWeighting(SeededWeighting):
    """PCGrad (Yu et al. 2020) as a Gramian weighting, TorchJD's ``PCGradWeighting``.

    Same weights as TorchJD for the same projection orders. Differs from it: TorchJD draws the
    order of objective i with ``torch.randperm(K)`` from torch's global RNG (on the CPU, moving
    G there); this class draws all orders of a batch at once (``argsort`` of uniform draws) from
    its own generator (``seed=`` / ``generator=``) and keeps G on its device. The distribution of
    the orders is the same (uniform), the draws are not: the tests compare the two by handing
    TorchJD our orders.

    Args:
        seed: seed of the weighting's own generator (drawn from torch's global RNG when ``None``).
        generator: a generator to draw from instead; mutually exclusive with ``seed``.
    """

    name = "pcgrad"

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor:
        k, gen = gramian.shape[0], self.generator
        # The draws of a [1, K, K] batch (pcgrad_permutations): the same orders either way.
        uniform = torch.rand((k, k), generator=gen, dtype=torch.float64, device=gen.device)
        orders = uniform.argsort(-1).numpy(force=True)
        return torch.from_numpy(_pcgrad_numpy(gramian, orders))

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        if gramian.shape[0] == 1 and gramian.device.type == "cpu":
            return self._weights_on_host(gramian[0].numpy())[None]
        return pcgrad_weights(gramian, pcgrad_permutations(gramian, self.generator))
