"""Dynamic Weight Average (DWA): weigh each objective by how slowly its loss has been falling.

Liu, Johns & Davison 2019, "End-to-End Multi-Task Learning with Attention" (CVPR), eq. 7, as
in TorchJD's ``DWA`` scalarization: with ``L_i(t)`` the loss of objective i averaged over epoch t,

    r_i = L_i(t−1) / L_i(t−2),   w = softmax(r / T),

and uniform weights ``1/K`` until two epoch averages exist. A larger temperature T makes the
weights more uniform; the paper uses T = 2. Uses only the loss history, not the Gramian.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mooptim.weightings._base import Weighting, _first_bad

__all__ = ["DWAWeighting", "dwa_weights"]


def dwa_weights(older: Tensor, newer: Tensor, temperature: float) -> Tensor:
    """``[..., K]`` weights ``softmax((newer / older) / T)`` of two epoch-average losses."""
    return torch.softmax((newer / older) / temperature, dim=-1)


class DWAWeighting(Weighting):
    """DWA (Liu et al. 2019) with TorchJD's epoch bookkeeping; call :meth:`step` each epoch.

    Each call returns the weights of the two previous epochs' average losses and adds the given
    losses to the current epoch's sums; :meth:`step` closes the epoch. A batch of B problems
    keeps B loss histories (``losses`` is ``[..., K]`` like the Gramian's batch).

    Differs from TorchJD's ``DWA``: the weights sum to 1 (TorchJD's are K times these, summing
    to K), like every weighting of the family; an epoch average of exactly 0, which TorchJD
    divides by (NaN weights), raises here.

    Args:
        temperature: T > 0 (default 2, the paper's).

    Raises:
        ValueError: ``temperature ≤ 0``; at call, losses whose shape changed (call :meth:`reset`);
            at :meth:`step`, an epoch average of 0 (naming the problem).
    """

    name = "dwa"
    reads_gramian = False
    needs_losses = True
    stateful = True

    def __init__(self, temperature: float = 2.0) -> None:
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.temperature = float(temperature)
        self.reset()

    def hyperparameters(self) -> dict[str, Any]:
        return {"temperature": self.temperature}

    def reset(self) -> None:
        """Forget the loss history: uniform weights for the next two epochs."""
        self._loss_sum: Tensor | None = None
        self._batches = 0
        self._averages: list[Tensor] = []

    def step(self) -> None:
        """Close the epoch: its average loss becomes the newest of the two kept (no-op if empty)."""
        if self._loss_sum is None:
            return
        average = self._loss_sum / self._batches
        zero = (average == 0).any(-1)
        if bool(zero.any()):
            where = _first_bad(zero, zero.shape) if zero.numel() > 1 else ""
            raise ValueError(f"an epoch-average loss is 0: DWA's loss ratio is undefined{where}")
        self._averages = [*self._averages, average][-2:]
        self._loss_sum, self._batches = None, 0

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        assert losses is not None  # needs_losses: the base class checked them
        for previous in (self._loss_sum, *self._averages):
            if previous is not None and previous.shape != losses.shape:
                raise ValueError(
                    f"losses changed shape from {tuple(previous.shape)} to "
                    f"{tuple(losses.shape)} (problems x objectives); call reset() first"
                )
        if len(self._averages) < 2:
            weights = torch.full_like(losses, 1.0 / losses.shape[-1])
        else:
            weights = dwa_weights(*self._averages, self.temperature)
        self._loss_sum = losses.clone() if self._loss_sum is None else self._loss_sum + losses
        self._batches += 1
        return weights

    def state_dict(self) -> dict[str, Any]:
        return {
            "loss_sum": None if self._loss_sum is None else self._loss_sum.clone(),
            "batches": self._batches,
            "averages": [a.clone() for a in self._averages],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if set(state) != {"loss_sum", "batches", "averages"} or len(state["averages"]) > 2:
            raise ValueError(
                f"dwa state must have keys ['averages', 'batches', 'loss_sum'] with at most two "
                f"averages, got keys {sorted(state)}"
            )
        loss_sum = state["loss_sum"]
        self._loss_sum = None if loss_sum is None else loss_sum.to(torch.float64).clone()
        self._batches = int(state["batches"])
        self._averages = [a.to(torch.float64).clone() for a in state["averages"]]
