"""Input checks and small pure helpers for the weighting step (no host syncs unless noted)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch

from mooptim.subspace import Subspace


def check_structure(index: int, loss: object) -> None:
    """Raise unless ``loss`` is a scalar tensor with a graph (no host sync; finiteness is checked
    with the step's one host read).

    Raises:
        TypeError: not a tensor.
        ValueError: not a scalar, or no graph (``requires_grad`` False).
    """
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


def check_structures(losses: Sequence[torch.Tensor | None]) -> None:
    """:func:`check_structure` for every present loss."""
    for i, loss in enumerate(losses):
        if loss is not None:
            check_structure(i, loss)


def recording_presence(
    closures: Sequence[Callable[[], torch.Tensor | None]], present: list[bool]
) -> list[Callable[[], torch.Tensor | None]]:
    """The closures, each also recording in ``present[i]`` whether it returned a loss."""

    def record(
        i: int, closure: Callable[[], torch.Tensor | None]
    ) -> Callable[[], torch.Tensor | None]:
        def wrapped() -> torch.Tensor | None:
            loss = closure()
            present[i] = loss is not None
            return loss

        return wrapped

    return [record(i, c) for i, c in enumerate(closures)]


def check_state_dict(state: Mapping[str, Any], num_objectives: int | None, numel: int) -> None:
    """Raise unless ``state`` (an ``ObjectiveWeighting.state_dict()``) fits a weighting with
    ``num_objectives`` objectives (None: not fixed yet) on a subspace of ``numel`` parameters.

    Raises:
        ValueError: missing keys, a different number of objectives, or a subspace EMA whose width
            is not ``numel``.
    """
    missing = {"step", "num_objectives", "weights", "ema", "ema_seen"} - set(state)
    if missing:
        raise ValueError(f"state dict lacks keys {sorted(missing)}")
    k = state["num_objectives"]
    if num_objectives is not None and k is not None and k != num_objectives:
        raise ValueError(f"state dict is for {k} objectives, this weighting has {num_objectives}")
    ema = state["ema"]
    # an EMA of caller-supplied vectors (combine_vectors) has its own width
    of_subspace = state.get("ema_source", "subspace") == "subspace"
    if ema is not None and of_subspace and ema.shape[-1] != numel:
        raise ValueError(f"state dict EMA has {ema.shape[-1]} columns, the subspace has {numel}")


def check_weighting_config(saved: Mapping[str, Any] | None, current: Mapping[str, Any]) -> None:
    """Raise unless the weighting ``config()`` saved in a state dict is ``current``.

    ``saved`` is ``None`` for a state dict written before weightings recorded their
    configuration: those were all MGDA's, so only the method name is checked.

    Raises:
        ValueError: another method or other hyperparameters, naming each difference.
    """
    if saved is None:
        saved, current = {"name": "mgda"}, {"name": current.get("name")}
    if dict(saved) == dict(current):
        return
    if saved.get("name") != current.get("name"):
        what = f"name: saved {saved.get('name')!r}, here {current.get('name')!r}"
    else:
        keys = sorted(set(saved) | set(current))

        def shown(config: Mapping[str, Any], key: str) -> str:
            return repr(config[key]) if key in config else "not set"

        what = "; ".join(
            f"{key}: saved {shown(saved, key)}, here {shown(current, key)}"
            for key in keys
            if (key in saved, saved.get(key)) != (key in current, current.get(key))
        )
    raise ValueError(
        f"state dict was saved with the weighting {dict(saved)}, this one is {dict(current)} "
        f"({what})"
    )


def flags_on(flags: list[bool], device: torch.device) -> torch.Tensor:
    """``[K]`` bool tensor on ``device``; the host-to-device copy does not wait for the device."""
    return torch.tensor(flags, dtype=torch.bool).to(device, non_blocking=True)


def extra_params(subspace: Subspace, params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    """Trainable ``params`` not in ``subspace``, deduplicated, in order."""
    own = {id(p) for p in subspace.params}
    out: list[torch.Tensor] = []
    for p in params:
        if id(p) not in own and p.requires_grad:
            own.add(id(p))
            out.append(p)
    return out


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


def add_weighted_rows(
    coeffs: torch.Tensor, vectors: torch.Tensor, params: Sequence[torch.Tensor]
) -> None:
    """``p.grad += Σ_i coeffs[i] · vectors[i, slice of p]`` for each of ``params`` (flat, in order).

    One ``[1, K] × [K, n_p]`` product per parameter, written straight into its gradient: into a
    new tensor when ``p.grad`` is ``None`` (as an ordinary backward allocates it), accumulated in
    place otherwise. Never materialises the ``[D]`` direction as one block (a fresh allocation of
    that size costs page faults on CPU every step).
    """
    lam = coeffs.reshape(1, -1)
    offset = 0
    for p in params:
        n = p.numel()
        block = vectors[:, offset : offset + n]
        offset += n
        grad = p.grad
        same = p.dtype == vectors.dtype and p.device == vectors.device
        if grad is None and same:
            grad = torch.empty(p.shape, dtype=p.dtype, device=p.device)
            torch.mm(lam, block, out=grad.view(1, n))
            p.grad = grad
        elif grad is None:
            p.grad = (lam @ block).reshape(p.shape).to(device=p.device, dtype=p.dtype)
        elif same and grad.dtype == vectors.dtype and grad.is_contiguous():
            grad.view(1, n).addmm_(lam, block)
        else:
            grad.add_((lam @ block).reshape(p.shape).to(device=grad.device, dtype=grad.dtype))
