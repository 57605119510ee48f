"""Cross-rank averaging of per-objective quantities so every rank solves the same min-norm problem.

Under ``torch.distributed`` each rank sees different data, so its per-objective gradients differ.
The weighting step averages them over ranks *before* the Gram and the solve: objective i's gradient
becomes ḡ_i = (1/n_i) Σ_{r: i present on r} g_i^r, with n_i the number of ranks whose batch contains
objective i. All ranks then hold identical bytes (an all-reduce delivers the same reduced buffer to
every rank), run the same deterministic solve and obtain bitwise-identical λ. The model's own
backward still goes through DDP's reduction; only the small ``[K, d]`` subspace gradients (or, for
Gram accumulation, each ``[K, block]`` block) and the K loss values travel here.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

__all__ = ["ObjectiveAverager", "broadcast_weights", "distributed_enabled"]


def distributed_enabled(group: object | None = None) -> bool:
    """True when torch.distributed is available and initialised, with more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size(group) > 1


class ObjectiveAverager:
    """Averages ``[K, ...]`` tensors over ranks, each objective over the ranks where it is present.

    Constructing it performs one all-reduce of the presence counts (K floats). Calling it
    all-reduces (sum) the tensor in place and divides row i by n_i (rows with n_i = 0 stay zero).
    Without distribution it is the identity (absent rows are already zero). Every rank must call it
    the same number of times with the same shapes, as for any collective.

    Args:
        present: ``[K]`` bool, objective i present in this rank's batch.
        enabled: whether to communicate (normally :func:`distributed_enabled`).
        group: process group (``None`` = the default group).
    """

    def __init__(self, present: torch.Tensor, enabled: bool, group: object | None = None) -> None:
        self.enabled = enabled
        self.group = group
        counts = present.to(torch.float64)
        if enabled:
            dist.all_reduce(counts, op=dist.ReduceOp.SUM, group=group)
        self.counts = counts
        #: ``[K]`` bool, objective present on at least one rank.
        self.present_anywhere = counts > 0

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return tensor
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM, group=self.group)
        divisor = self.counts.clamp_min(1).to(dtype=tensor.dtype, device=tensor.device)
        return tensor / divisor.reshape(-1, *([1] * (tensor.dim() - 1)))


def broadcast_weights(
    weights: torch.Tensor, group: object | None = None, src: int = 0
) -> torch.Tensor:
    """Overwrite ``weights`` on every rank with rank ``src``'s copy (an extra guarantee)."""
    dist.broadcast(weights, src=src, group=group)
    return weights
