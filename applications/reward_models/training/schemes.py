"""Training schemes: which batches a step sees and how its per-source losses become one loss.

A scheme is a small stateless strategy chosen once per run (:func:`resolve_scheme` is the only
place a scheme's name is read). With Δ_j = r(x_j, y_w) − r(x_j, y_l) the Bradley–Terry loss of
source i on a batch is L_i = mean_{j ∈ i} −log σ(Δ_j); every scheme sees K × m pairs per
micro-batch (K sources, m = ``pairs_per_source``):

* :class:`Single`: uniformly shuffled batches of one source; loss mean_j −log σ(Δ_j).
* :class:`MultiTask`: uniformly shuffled batches of the union; loss mean_j −log σ(Δ_j).
* :class:`More`: per-source balanced batches (m pairs of every source); loss Σ_i λ_i L_i with
  λ = argmin_{λ∈Δ} ‖Σ_i λ_i g_i/s_i‖², g_i = ∂L_i/∂θ_S on the subspace S (default the reward
  head), computed by MORE's one step :class:`.step.MoreStep` (MORE — Zeng et al., 2023; the
  weighting is ``config.more.weighting``, MGDA's min-norm λ by default).
* :class:`BalancedUniform`: MORE's balanced batches with λ fixed uniform, loss (1/K) Σ_i L_i —
  the ablation that separates MORE's batch balancing from its adaptive weighting.

Every sampler completes an epoch's short last batch with the epoch's first pairs (``fill_last``,
as ``DistributedSampler`` pads), so every step holds exactly K × m pairs whatever the number of
processes: with W processes each rank takes an equal share (:meth:`Scheme.check_world_size`),
and a W-process run sees the same global batches as a single-process one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from applications.reward_models.data.sampling import BalancedBatchSampler, UniformBatchSampler
from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.training.config import TrainConfig
from applications.reward_models.training.losses import SourceBatch, StepLoss, source_losses
from applications.reward_models.training.step import MoreStep
from applications.reward_models.training.weighting import more_step

__all__ = [
    "SCHEMES",
    "BalancedUniform",
    "More",
    "MultiTask",
    "Scheme",
    "Single",
    "resolve_scheme",
]

Pairs = Mapping[str, Sequence[PreferencePair]]


class Scheme(ABC):
    """Sampler + loss (+ optional per-source weighting) of one training scheme."""

    name: ClassVar[str]

    @abstractmethod
    def sampler(self, config: TrainConfig, train: Pairs) -> Any:
        """The resumable batch sampler (``state_dict``/``load_state_dict``) of K × m pairs."""

    def check_world_size(self, config: TrainConfig, num_sources: int, world: int) -> None:
        """Refuse a process count that cannot split every K × m batch into equal shares.

        Raises:
            ValueError: K × m is not divisible by ``world``.
        """
        batch = num_sources * config.pairs_per_source
        if batch % world:
            raise ValueError(
                f"{self.name}: a step's {num_sources} x {config.pairs_per_source} = {batch} pairs "
                f"do not split evenly over {world} processes; choose pairs_per_source so that "
                f"K x pairs_per_source is a multiple of {world}"
            )

    def weighting(self, config: TrainConfig, model: nn.Module, num_sources: int) -> MoreStep | None:
        """The stateful per-source weighting, or ``None`` (default: none)."""
        return None

    def loss(
        self,
        margins: torch.Tensor,
        source_ids: list[str],
        names: list[str],
        weighting: MoreStep | None,
    ) -> StepLoss:
        """The micro-batch's loss from the reward margins Δ and each pair's source: the
        per-source L_i and accuracies (:func:`source_losses`), combined by :meth:`combine`."""
        losses, accs = source_losses(margins, source_ids, names)
        batch = SourceBatch(margins, source_ids, names, losses)
        loss, weights = self.combine(batch, weighting)
        return StepLoss(loss, losses, accs, weights)

    @abstractmethod
    def combine(
        self, batch: SourceBatch, weighting: MoreStep | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The loss to backpropagate and the λ applied to the L_i (``None``: a mean over pairs)."""

    def for_config(self, config: TrainConfig) -> Scheme:
        """This scheme with the options ``config`` sets for it (default: itself)."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _PairMean(Scheme):
    """Loss mean_j −log σ(Δ_j) over the batch's pairs."""

    def combine(self, batch: SourceBatch, weighting: MoreStep | None) -> tuple[torch.Tensor, None]:
        return -F.logsigmoid(batch.margins).mean(), None


class Single(_PairMean):
    """One source (``config.single_source``, default the first), batches of K × m of its pairs."""

    name = "single"

    def sampler(self, config: TrainConfig, train: Pairs) -> UniformBatchSampler:
        name = config.single_source or next(iter(train))
        if name not in train:
            raise ValueError(f"single_source {name!r} is not one of {list(train)}")
        batch = len(train) * config.pairs_per_source
        return UniformBatchSampler(train[name], batch_size=batch, seed=config.seed, fill_last=True)


class MultiTask(_PairMean):
    """The union of the sources, uniformly shuffled (each resampled to ``resample_to`` if set)."""

    name = "multitask"

    def sampler(self, config: TrainConfig, train: Pairs) -> UniformBatchSampler:
        return UniformBatchSampler.from_sources(
            train,
            batch_size=len(train) * config.pairs_per_source,
            resample_to=config.resample_to,
            seed=config.seed,
            fill_last=True,
        )


class _Balanced(Scheme):
    """MORE's batches: m pairs of every source per micro-batch."""

    def sampler(self, config: TrainConfig, train: Pairs) -> BalancedBatchSampler:
        return BalancedBatchSampler(
            train,
            config.pairs_per_source,
            resample_to=config.resample_to,
            seed=config.seed,
            fill_last=True,
        )

    def check_world_size(self, config: TrainConfig, num_sources: int, world: int) -> None:
        """Refuse a process count that does not divide m (each rank keeps m/W pairs per source).

        Raises:
            ValueError: m is not divisible by ``world``.
        """
        if config.pairs_per_source % world:
            raise ValueError(
                f"{self.name}: pairs_per_source={config.pairs_per_source} does not split evenly "
                f"over {world} processes (each rank takes pairs_per_source / {world} pairs of "
                f"every source); choose a multiple of {world}"
            )


class More(_Balanced):
    """Balanced batches, loss Σ_i λ_i L_i with MORE's λ: :class:`.step.MoreStep` built from
    ``config.more`` (weighting, subspace, normalizer, EMA, ``lambda_pairs``)."""

    name = "more"

    def weighting(self, config: TrainConfig, model: nn.Module, num_sources: int) -> MoreStep:
        return more_step(config.more, model, num_sources)

    def loss(
        self,
        margins: torch.Tensor,
        source_ids: list[str],
        names: list[str],
        weighting: MoreStep | None,
    ) -> StepLoss:
        out = _required(weighting)(margins, source_ids, names)
        return StepLoss(out.loss, out.losses, out.accuracies, out.weights)

    def combine(
        self, batch: SourceBatch, weighting: MoreStep | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out = _required(weighting)(batch.margins, batch.source_ids, batch.names)
        return out.loss, out.weights


def _required(weighting: MoreStep | None) -> MoreStep:
    if weighting is None:
        raise ValueError("the MORE scheme needs its weighting (Scheme.weighting)")
    return weighting


class BalancedUniform(_Balanced):
    """Balanced batches, loss (1/K') Σ_i L_i over the K' sources present (λ fixed uniform)."""

    name = "balanced_uniform"

    def combine(
        self, batch: SourceBatch, weighting: MoreStep | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        margins, losses = batch.margins, batch.losses
        present = torch.tensor([li is not None for li in losses], dtype=margins.dtype)
        weights = (present / present.sum()).to(margins.device)
        return torch.stack([li for li in losses if li is not None]).mean(), weights


SCHEMES: dict[str, Scheme] = {s.name: s for s in (Single(), MultiTask(), More(), BalancedUniform())}
"""Every scheme by its configuration name."""


def resolve_scheme(scheme: str | Scheme, config: TrainConfig | None = None) -> Scheme:
    """The :class:`Scheme` named ``scheme``, with ``config``'s options for it if given (a
    :class:`Scheme` instance is returned as is).

    Raises:
        ValueError: an unknown name (the known ones are listed).
    """
    if isinstance(scheme, Scheme):
        return scheme
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {sorted(SCHEMES)}")
    return SCHEMES[scheme] if config is None else SCHEMES[scheme].for_config(config)
