"""The study's reward model on cached features: a shared trainable MLP body and a linear head.

``r(x, y) = w · body(z(x, y))`` with ``z`` the frozen backbone's features (:mod:`.features`),
``body`` a small MLP (default 384 → 128 → 32, GELU after each layer) and ``w`` a bias-free
linear head (a bias cancels in Δ = r_w − r_l). The body is shared by every source, so, unlike a
linear head on frozen features, the sources compete for one representation: the regime in
which MORE's weighting of per-source gradients can matter (MORE's subspace is the head, as in
the paper; :attr:`RewardMLP.last_layer` adds the body's last layer).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["RewardMLP"]


class RewardMLP(nn.Module):
    """``features [B, H] → rewards [B]`` through ``body`` then the bias-free ``head``.

    Args:
        width: H, the features' width.
        hidden: widths of the body's layers (the last is the head's input width).

    The head starts at ``N(0, 0.02²)`` like the trainer's reward head; the body at PyTorch's
    default initialization. Seed with ``torch.manual_seed`` before building.
    """

    def __init__(self, width: int, hidden: Sequence[int] = (128, 32)) -> None:
        super().__init__()
        if not hidden or min(hidden) < 1 or width < 1:
            raise ValueError(f"width {width} and hidden {tuple(hidden)} must be positive")
        layers: list[nn.Module] = []
        for a, b in zip((width, *hidden[:-1]), hidden, strict=True):
            layers += [nn.Linear(a, b), nn.GELU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(hidden[-1], 1, bias=False)
        nn.init.normal_(self.head.weight, std=0.02)

    @property
    def last_layer(self) -> nn.Linear:
        """The body's last linear layer."""
        return [m for m in self.body if isinstance(m, nn.Linear)][-1]

    def represent(self, z: torch.Tensor) -> torch.Tensor:
        """``[B, hidden[-1]]``: what the head receives."""
        return self.body(z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(z)).squeeze(-1)
