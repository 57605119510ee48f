"""MORE's step, once for every entry point: per-source losses → Σ_i λ_i L_i and λ.

With Δ_j = r(x_j, y_w) − r(x_j, y_l) and L_i = mean_{j ∈ i} −log σ(Δ_j) the Bradley–Terry loss
of source i, one step computes

    λ = W(G),  G_ij = ⟨g_i/s_i, g_j/s_j⟩,  g_i = ∂L_i/∂θ_S,   loss = c · Σ_i λ_i L_i,

with W the configured weighting (``more.weighting``; MGDA — the paper's: λ = argmin_{λ∈Δ} λᵀGλ),
θ_S the subspace (``more.subspace``; the reward head by default), s_i the normalizer's scales,
the g_i smoothed by an EMA (``more.ema_alpha``) and averaged over ranks under
``torch.distributed``, and c = K' (the number of active sources) with
``more.scale_by_num_objectives``, else 1 (MORE — Zeng et al., 2023). With ``more.lambda_pairs`` =
n, λ is solved from the losses of the first n pairs of every source (the official code takes λ
from one pair per source) and applied to the losses over all pairs.

:class:`MoreStep` is built from a :class:`~..sections.MoreConfig` and the subspace's parameters,
so the training CLI's trainer, TRL's :class:`~..integrations.trl.MoreRewardTrainer` and a
trainer of a head on frozen features all run the same step:

* from reward margins: ``step(margins, source_ids, names)``;
* from the caller's own losses: ``step.combine(losses, lambda_losses=...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from applications.reward_models.sections import MoreConfig
from applications.reward_models.training.losses import source_losses
from mooptim import ObjectiveWeighting
from mooptim.gradients import GramAccumulation, SubspaceAutograd
from mooptim.normalizers import normalizer_from_name
from mooptim.subspace import Subspace
from mooptim.weighting import WeightingOutput
from mooptim.weightings import weighting_from_name

__all__ = ["MoreOutput", "MoreStep", "first_per_source"]

Losses = Sequence[torch.Tensor | None]


@dataclass(frozen=True)
class MoreOutput:
    """One step's result.

    Attributes:
        loss: c · Σ_i λ_i L_i, to backpropagate.
        weights: ``[K]`` detached λ (0 for absent or inactive sources).
        losses: the per-source L_i the loss combines (``None`` where absent).
        accuracies: per-source fraction of Δ > 0 (from margins; ``None`` where absent or when
            the step was given losses).
        solved: the weighting's output on the losses λ was solved from (Gram, active mask, ...).
    """

    loss: torch.Tensor
    weights: torch.Tensor
    losses: list[torch.Tensor | None]
    accuracies: list[torch.Tensor | None]
    solved: WeightingOutput


def first_per_source(source_ids: Sequence[str], count: int) -> list[int]:
    """Indices of the first ``count`` pairs of every source, in batch order."""
    seen: dict[str, int] = {}
    keep = []
    for j, source in enumerate(source_ids):
        if seen.get(source, 0) < count:
            seen[source] = seen.get(source, 0) + 1
            keep.append(j)
    return keep


def make_objective_weighting(
    more: MoreConfig, subspace: Subspace, num_sources: int, **options: Any
) -> ObjectiveWeighting:
    """The :class:`mooptim.ObjectiveWeighting` that ``more`` describes on ``subspace``
    (``options``: further keyword arguments, e.g. ``process_group``)."""
    strategy = SubspaceAutograd() if more.strategy == "autograd" else GramAccumulation()
    normalizer = None if more.normalizer == "none" else normalizer_from_name(more.normalizer)
    return ObjectiveWeighting(
        subspace,
        weighting=weighting_from_name(more.weighting, **more.hyperparameters()),
        normalizer=normalizer,
        ema_alpha=more.ema_alpha,
        strategy=strategy,
        scale_by_num_objectives=more.scale_by_num_objectives,
        num_objectives=num_sources,
        **options,
    )


class MoreStep:
    """MORE's stateful step (the weighting's EMA and warm start live here).

    Args:
        weighting: the :class:`mooptim.ObjectiveWeighting` that computes λ.
        lambda_pairs: pairs per source λ is solved from (``None``: all pairs).
        more: the configuration it was built from (recorded with checkpoints).

    Raises:
        ValueError: ``lambda_pairs`` < 1.
    """

    def __init__(
        self,
        weighting: ObjectiveWeighting,
        lambda_pairs: int | None = None,
        more: MoreConfig | None = None,
    ) -> None:
        if lambda_pairs is not None and lambda_pairs < 1:
            raise ValueError(f"lambda_pairs must be >= 1 or None, got {lambda_pairs}")
        self.weighting = weighting
        self.lambda_pairs = lambda_pairs
        self.more = more

    @classmethod
    def from_config(
        cls,
        more: MoreConfig,
        params: Subspace | nn.Module | Sequence[torch.Tensor],
        num_sources: int,
        **options: Any,
    ) -> MoreStep:
        """The step ``more`` describes, on ``params`` (a :class:`~mooptim.subspace.Subspace`, a
        module — e.g. a head on frozen features — or a list of parameters).

        Raises:
            ConfigError: options that cannot go together (:meth:`MoreConfig.check`).
        """
        more.check()
        if isinstance(params, nn.Module):
            params = Subspace.from_module(params)
        elif not isinstance(params, Subspace):
            params = Subspace(list(params))
        weighting = make_objective_weighting(more, params, num_sources, **options)
        return cls(weighting, more.lambda_pairs, more)

    def __call__(
        self, margins: torch.Tensor, source_ids: Sequence[str], names: Sequence[str]
    ) -> MoreOutput:
        """The step from the reward margins Δ of a batch and each pair's source."""
        source_ids, names = list(source_ids), list(names)
        losses, accs = source_losses(margins, source_ids, names)
        few = None
        if self.lambda_pairs is not None:
            keep = first_per_source(source_ids, self.lambda_pairs)
            few, _ = source_losses(margins[keep], [source_ids[j] for j in keep], names)
        out = self.combine(losses, lambda_losses=few)
        return MoreOutput(out.loss, out.weights, out.losses, accs, out.solved)

    def combine(self, losses: Losses, lambda_losses: Losses | None = None) -> MoreOutput:
        """c · Σ_i λ_i L_i with λ solved from ``lambda_losses`` (default: ``losses``).

        Args:
            losses: the K per-source losses sharing one graph (``None`` = absent).
            lambda_losses: the K losses whose subspace gradients set λ (e.g. on fewer pairs).
        """
        losses = list(losses)
        if lambda_losses is None:
            out = self.weighting.combine(losses)
            return MoreOutput(out.loss, out.weights.detach(), losses, [None] * len(losses), out)
        out = self.weighting.combine(list(lambda_losses))
        weights = out.weights.detach()
        present = [(w, li) for w, li in zip(weights, losses, strict=True) if li is not None]
        scale = out.num_active if self.weighting.scale_by_num_objectives and out.num_active else 1
        loss = torch.stack([w * li for w, li in present]).sum() * scale
        return MoreOutput(loss, weights, losses, [None] * len(losses), out)

    def config(self) -> dict[str, Any]:
        """What a checkpoint records of this step: the weighting's name and hyperparameters
        (:meth:`mooptim.weightings.Weighting.config`) and ``lambda_pairs``."""
        return {"weighting": self.weighting.weighting.config(), "lambda_pairs": self.lambda_pairs}

    def state_dict(self) -> dict[str, Any]:
        """The weighting's state (EMA, warm start, step)."""
        return self.weighting.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.weighting.load_state_dict(state)
