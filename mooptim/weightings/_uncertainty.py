"""Uncertainty weighting (Kendall et al. 2018): learned log-variances ``s`` weigh the losses.

Kendall, Gal & Cipolla 2018, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene
Geometry and Semantics" (CVPR). Each objective i has a learnable log-variance ``s_i = log σ_i²``;
the objective minimised jointly over the model and s is

    L(θ, s) = Σ_i exp(−s_i) L_i(θ) + Σ_i s_i,

so the model's update is ``Σ_i exp(−s_i) g_i`` (weights ``w_i = exp(−s_i)``, independent of the
Gramian) and s_i moves to ``log L_i`` (where ``∂L/∂s_i = 1 − exp(−s_i) L_i = 0``).

Where it does not fit the Gramian interface: the weights are not a function of G (nor of the
losses) but of parameters learned by gradient descent on L. The weighting holds them as an
``nn.Parameter`` (:meth:`UncertaintyWeighting.parameters`) that the user adds to an optimizer,
and trains them by backpropagating :meth:`UncertaintyWeighting.objective` (or the weighted
losses plus :meth:`UncertaintyWeighting.regularizer`); calling the weighting on a Gramian only
reads the current ``exp(−s)``, detached.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from mooptim.weightings._base import Weighting

__all__ = ["UncertaintyWeighting", "uncertainty_objective", "uncertainty_weights"]


def uncertainty_weights(log_vars: Tensor) -> Tensor:
    """``[..., K]`` weights ``exp(−s)`` of log-variances ``s`` ``[..., K]`` (differentiable)."""
    return torch.exp(-log_vars)


def uncertainty_objective(losses: Tensor, log_vars: Tensor) -> Tensor:
    """``Σ_i exp(−s_i) L_i + Σ_i s_i``, summed over every leading dimension too.

    Twice TorchJD's ``UW`` scalarization ``Σ_i (½ exp(−s_i) L_i + ½ s_i)`` (Kendall's regression
    form): same minimiser in s, same direction in θ, gradients twice as large.
    """
    return (uncertainty_weights(log_vars) * losses).sum() + log_vars.sum()


class UncertaintyWeighting(Weighting):
    """Kendall et al.'s uncertainty weighting: weights ``exp(−s)`` of learned log-variances s.

    ``s`` is an ``nn.Parameter`` of shape ``[K]`` (float32, initialised to ``initial_log_var``),
    shared by every problem of a batch. Pass ``num_objectives`` to create it at construction (so
    that :meth:`parameters` can go to the optimizer before the first step); otherwise it is
    created at the first call, on the Gramian's device, from its K.

    Args:
        num_objectives: K, or ``None`` to take it from the first Gramian.
        initial_log_var: the initial ``s_i`` (0: uniform weights 1, as TorchJD's ``UW``; LibMTL
            uses −0.5).

    Warning:
        Not a function of the Gramian: ``s`` is learned. Add :meth:`parameters` to an optimizer
        and backpropagate :meth:`objective` (``objective(losses.detach())`` when the model's
        update comes from the Gramian pipeline). Weights are ``exp(−s_i)``, not normalised
        (they start at 1 each, sum K), and the objective is twice TorchJD's ``UW`` (which
        halves both terms).
    """

    name = "uncertainty"
    reads_gramian = False
    stateful = True

    def __init__(self, num_objectives: int | None = None, initial_log_var: float = 0.0) -> None:
        is_int = isinstance(num_objectives, int) and not isinstance(num_objectives, bool)
        valid = num_objectives is None or (is_int and num_objectives > 0)
        if not valid:
            raise ValueError(f"num_objectives must be a positive int, got {num_objectives!r}")
        self.num_objectives = num_objectives
        self.initial_log_var = float(initial_log_var)
        self.log_vars: nn.Parameter | None = None
        if num_objectives is not None:
            self._create(int(num_objectives), torch.device("cpu"))

    def hyperparameters(self) -> dict[str, Any]:
        return {"num_objectives": self.num_objectives, "initial_log_var": self.initial_log_var}

    def parameters(self) -> Iterator[nn.Parameter]:
        """The log-variances s (nothing before they exist), for the optimizer."""
        if self.log_vars is not None:
            yield self.log_vars

    def to(self, device: torch.device | str) -> UncertaintyWeighting:
        """Move s to ``device`` in place (the same Parameter object); call before the optimizer."""
        if self.log_vars is not None:
            self.log_vars.data = self.log_vars.data.to(device)
        return self

    def regularizer(self) -> Tensor:
        """``Σ_i s_i``, the term that keeps the weights from growing without bound."""
        return self._require().sum()

    def objective(self, losses: Tensor) -> Tensor:
        """Kendall's objective ``Σ_i exp(−s_i) L_i + Σ_i s_i`` for losses ``[K]``.

        Backpropagate it to train s (and, unless the losses are detached, the model with
        the weights ``exp(−s)``).

        Raises:
            ValueError: ``losses`` is not ``[K]``.
        """
        log_vars = self._require()
        if tuple(losses.shape) != tuple(log_vars.shape):
            raise ValueError(
                f"losses must have shape {tuple(log_vars.shape)}, got {tuple(losses.shape)}"
            )
        return uncertainty_objective(losses, log_vars.to(device=losses.device, dtype=losses.dtype))

    def state_dict(self) -> dict[str, Any]:
        return {} if self.log_vars is None else {"log_vars": self.log_vars.detach().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        log_vars = state.get("log_vars")
        if set(state) != {"log_vars"} or not isinstance(log_vars, Tensor) or log_vars.dim() != 1:
            raise ValueError(
                f"uncertainty state must be {{'log_vars': [K] tensor}}, got keys {sorted(state)}"
            )
        if self.log_vars is None:
            self._create(log_vars.shape[0], log_vars.device)
        self._check_k(log_vars.shape[0])
        with torch.no_grad():
            self.log_vars.copy_(log_vars)

    def reset(self) -> None:
        """Set s back to ``initial_log_var`` in place."""
        if self.log_vars is not None:
            with torch.no_grad():
                self.log_vars.fill_(self.initial_log_var)

    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        k = gramian.shape[-1]
        if self.log_vars is None:
            self._create(k, gramian.device)
        self._check_k(k)
        weights = uncertainty_weights(self._require().detach().to(gramian))
        return weights.expand(gramian.shape[0], k)

    def _create(self, k: int, device: torch.device) -> None:
        self.log_vars = nn.Parameter(torch.full((k,), self.initial_log_var, device=device))

    def _require(self) -> nn.Parameter:
        if self.log_vars is None:
            raise RuntimeError(
                "the log-variances do not exist yet: pass num_objectives= or call once"
            )
        return self.log_vars

    def _check_k(self, k: int) -> None:
        have = self._require().shape[0]
        if have != k:
            raise ValueError(f"the uncertainty weighting has {have} log-variances, got K = {k}")
