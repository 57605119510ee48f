"""Exponential moving average of per-objective gradients, row-wise, without host syncs."""

from __future__ import annotations

import torch


def ema_update(
    state: torch.Tensor | None,
    initialized: torch.Tensor | None,
    new: torch.Tensor,
    update: torch.Tensor,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One EMA step g̃_i ← (1 − α) g̃_i + α g_i on the rows where ``update`` is True.

    A row seen for the first time is initialised to its gradient (g̃_i ← g_i), not blended with an
    arbitrary start. Rows not updated keep their previous value.

    Args:
        state: ``[K, d]`` previous EMA, or ``None`` at the first step.
        initialized: ``[K]`` bool, rows that hold an EMA value, or ``None``.
        new: ``[K, d]`` this step's gradients.
        update: ``[K]`` bool, rows to update (objectives active this step).
        alpha: weight of the new gradient, in (0, 1].

    Returns:
        ``(state, initialized)`` after the step (new tensors; inputs are not modified).

    Raises:
        ValueError: ``state`` and ``new`` differ in shape.
    """
    if state is None or initialized is None:
        state = torch.zeros_like(new)
        initialized = torch.zeros(new.shape[0], dtype=torch.bool, device=new.device)
    if state.shape != new.shape:
        raise ValueError(f"EMA state has shape {tuple(state.shape)}, gradients {tuple(new.shape)}")
    blended = torch.where(initialized[:, None], torch.lerp(state, new, alpha), new)
    state = torch.where(update[:, None], blended, state)
    return state, initialized | update
