"""Input checks and small pure helpers for the weighting step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from mooptim.subspace import Subspace


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


def extra_params(subspace: Subspace, params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    """Trainable ``params`` not in ``subspace``, deduplicated, in order."""
    own = {id(p) for p in subspace.params}
    out: list[torch.Tensor] = []
    for p in params:
        if id(p) not in own and p.requires_grad:
            own.add(id(p))
            out.append(p)
    return out


def split_like(vector: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Views of a flat vector shaped like each of ``params``, in order."""
    sizes = [p.numel() for p in params]
    return [c.reshape(p.shape) for c, p in zip(torch.split(vector, sizes), params, strict=True)]
