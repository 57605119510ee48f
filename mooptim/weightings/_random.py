"""Random loss weighting (RLW): weights ``softmax(z)``, ``z ~ N(0, I_K)`` drawn afresh each call.

Lin et al. 2022, "Reasonable Effectiveness of Random Weighting: A Litmus Test for Multi-Task
Learning" (TMLR), Algorithm 2 with the normal distribution. The weights ignore the Gramian; the
method is the litmus test every other weighting should beat.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mooptim.weightings._seeding import SeededWeighting

__all__ = ["RandomWeighting", "random_weights"]


def random_weights(gramian: Tensor, generator: torch.Generator) -> Tensor:
    """``[..., K]`` weights ``softmax(z)`` with ``z`` standard normal, one draw per problem.

    The draws come from ``generator`` (on its device, in the Gramian's dtype) and are moved to the
    Gramian's device. With one problem, ``z`` is the same as TorchJD's ``RandomWeighting`` draws
    from torch's global RNG in the same state.
    """
    shape = gramian.shape[:-1]
    draws = torch.randn(shape, generator=generator, dtype=gramian.dtype, device=generator.device)
    return torch.softmax(draws.to(gramian.device), dim=-1)


class RandomWeighting(SeededWeighting):
    """RLW: positive random weights on the simplex, ``softmax`` of standard normal draws.

    Same distribution as TorchJD's ``RandomWeighting``. Differs from it: TorchJD draws from
    torch's global RNG; this class draws from its own generator (``seed=`` / ``generator=``), so
    the weights are reproducible and resumable (the generator state is the ``state_dict``) and
    do not perturb the program's other random draws. A batch of B problems draws B independent
    vectors.

    Args:
        seed: seed of the weighting's own generator (drawn from torch's global RNG when ``None``).
        generator: a generator to draw from instead; mutually exclusive with ``seed``.
    """

    name = "random"
    reads_gramian = False

    def __init__(self, seed: int | None = None, *, generator: torch.Generator | None = None):
        super().__init__(seed, generator=generator)
        self._draws: dict[int, Tensor] = {}  # K -> the host path's draw buffer

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        return random_weights(gramian, self.generator)

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor | None:
        # The draws of a [1, K, K] batch: the same weights either way. A generator on another
        # device takes the general path (the draws are made there and moved).
        if not self._generator_on_cpu:
            return None
        k = gramian.shape[0]
        # normal_ on a kept buffer draws what torch.randn draws (randn is empty + normal_) at
        # half its cost; softmax returns a new tensor, so the buffer never escapes.
        draws = self._draws.get(k)
        if draws is None:
            draws = self._draws[k] = torch.empty(k, dtype=torch.float64)
        return draws.normal_(generator=self.generator).softmax(0)
