"""Input checks and small pure helpers for the weighting step (no host syncs unless noted)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from mooptim.subspace import Subspace


def _check_structure(index: int, loss: object) -> torch.Tensor:
    """Raise unless ``loss`` is a scalar tensor with a graph; return it."""
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
    return loss


def check_loss(index: int, loss: object) -> None:
    """Raise ``TypeError``/``ValueError`` naming objective ``index`` unless ``loss`` is usable.

    Raises:
        TypeError: not a tensor.
        ValueError: not a scalar, no graph (``requires_grad`` False), or not finite.
    """
    value = _check_structure(index, loss).detach()
    if not torch.isfinite(value).all():
        raise ValueError(f"loss of objective {index} is not finite ({value.reshape(()).item()})")


def check_losses(losses: Sequence[torch.Tensor | None]) -> None:
    """Check every present loss; finiteness is checked with a single host sync for all of them.

    Raises:
        TypeError: a present loss is not a tensor.
        ValueError: a present loss is not a scalar, has no graph, or is not finite (naming it).
    """
    present = [(i, _check_structure(i, loss)) for i, loss in enumerate(losses) if loss is not None]
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


def loss_vector(losses: Sequence[torch.Tensor | None], device: torch.device) -> torch.Tensor:
    """``[K]`` float64 detached loss values, 0 where the loss is absent (``None``)."""
    values = torch.zeros(len(losses), dtype=torch.float64, device=device)
    present = [i for i, loss in enumerate(losses) if loss is not None]
    if present:
        stacked = torch.stack([losses[i].detach().reshape(()) for i in present])
        values[present] = stacked.to(device=device, dtype=torch.float64)
    return values


def weighted_sum(
    losses: Sequence[torch.Tensor | None], weights: torch.Tensor
) -> torch.Tensor | None:
    """``Σ_i λ_i L_i`` over the present losses (keeping their graphs), or ``None`` if none is."""
    present = [i for i, loss in enumerate(losses) if loss is not None]
    if not present:
        return None
    stacked = torch.stack([losses[i].reshape(()) for i in present])
    return (weights[present].to(stacked.dtype) * stacked).sum()


def add_to_grads(direction: torch.Tensor, params: Sequence[torch.Tensor]) -> None:
    """``p.grad += direction[slice of p]`` for each of ``params`` (flat, in order).

    A parameter without ``.grad`` gets a view of ``direction`` (no copy), so ``direction`` must be
    a fresh tensor the caller does not reuse.
    """
    for p, g in zip(params, split_like(direction, params), strict=True):
        g = g.to(p.dtype)  # no-op unless the parameters mix dtypes
        if p.grad is None:
            p.grad = g
        else:
            p.grad.add_(g)
