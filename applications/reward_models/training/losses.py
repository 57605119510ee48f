"""The per-source Bradley–Terry losses of a micro-batch and what a step logs about them.

With Δ_j = r(x_j, y_w) − r(x_j, y_l), source i's loss on a batch is
L_i = mean_{j ∈ i} −log σ(Δ_j) and its accuracy the fraction of Δ_j > 0 (ties count half).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["SourceBatch", "StepLoss", "source_losses"]


@dataclass(frozen=True)
class StepLoss:
    """One micro-batch's loss and what is logged about it.

    Attributes:
        loss: the scalar that is backpropagated.
        losses: per-source L_i (``None`` where the source is absent from the batch).
        accuracies: per-source fraction of Δ > 0 (ties count half; ``None`` where absent).
        weights: the λ applied to the L_i (``None`` for schemes that average over pairs).
    """

    loss: torch.Tensor
    losses: list[torch.Tensor | None]
    accuracies: list[torch.Tensor | None]
    weights: torch.Tensor | None = None


@dataclass(frozen=True)
class SourceBatch:
    """What :meth:`Scheme.combine` sees of a micro-batch.

    Attributes:
        margins: Δ_j = r(x_j, y_w) − r(x_j, y_l) of every pair.
        source_ids: each pair's source.
        names: the run's sources, in order (the order of ``losses`` and of λ).
        losses: per-source L_i (``None`` where the source is absent from the batch).
    """

    margins: torch.Tensor
    source_ids: list[str]
    names: list[str]
    losses: list[torch.Tensor | None]


def source_losses(
    margins: torch.Tensor, source_ids: list[str], names: list[str]
) -> tuple[list[torch.Tensor | None], list[torch.Tensor | None]]:
    """Per-source Bradley–Terry losses mean −log σ(Δ) and accuracies (``None`` if absent)."""
    index = {n: i for i, n in enumerate(names)}
    ids = torch.tensor([index[s] for s in source_ids], device=margins.device)
    nll = -F.logsigmoid(margins)
    correct = (margins > 0).to(margins.dtype) + 0.5 * (margins == 0).to(margins.dtype)
    losses: list[torch.Tensor | None] = []
    accs: list[torch.Tensor | None] = []
    for i in range(len(names)):
        mask = ids == i
        if not source_ids.count(names[i]):
            losses.append(None)
            accs.append(None)
            continue
        losses.append(nll[mask].mean())
        accs.append(correct[mask].mean().detach())
    return losses, accs
