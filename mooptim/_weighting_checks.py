"""Input checks and small pure helpers for the weighting step."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def check_loss(index: int, loss: object) -> None:
    """Raise ``TypeError``/``ValueError`` naming objective ``index`` unless ``loss`` is usable."""
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"loss of objective {index} is {type(loss).__name__}, not a tensor or None")
    if loss.numel() != 1:
        raise ValueError(
            f"loss of objective {index} has shape {tuple(loss.shape)}; expected a scalar"
        )
    if not loss.requires_grad:
        raise ValueError(
            f"loss of objective {index} does not require grad (computed under no_grad or detached?)"
        )
    if not torch.isfinite(loss.detach()).all():
        raise ValueError(
            f"loss of objective {index} is not finite ({loss.detach().reshape(()).item()})"
        )


def check_losses(losses: Sequence[torch.Tensor | None]) -> None:
    """Check every present loss; finiteness is checked with a single host sync for all of them."""
    present = [(i, loss) for i, loss in enumerate(losses) if loss is not None]
    for i, loss in present:
        if not isinstance(loss, torch.Tensor):
            raise TypeError(f"loss of objective {i} is {type(loss).__name__}, not a tensor or None")
        if loss.numel() != 1:
            raise ValueError(
                f"loss of objective {i} has shape {tuple(loss.shape)}; expected a scalar"
            )
        if not loss.requires_grad:
            raise ValueError(
                f"loss of objective {i} does not require grad (computed under no_grad or detached?)"
            )
    if not present:
        return
    values = torch.stack([loss.detach().reshape(()).to(torch.float64) for _, loss in present])
    finite = torch.isfinite(values)
    if not bool(finite.all()):
        bad = int((~finite).nonzero()[0, 0])
        i = present[bad][0]
        raise ValueError(f"loss of objective {i} is not finite ({values[bad].item()})")
