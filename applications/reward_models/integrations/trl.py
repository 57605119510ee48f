"""MORE inside TRL: :class:`MoreRewardTrainer`, a ``trl.RewardTrainer`` with min-norm weighting.

Per micro-batch of K·m pairs (m of each of the K sources, :class:`SourceBalancedSampler`), with
Δ_j = r(x_j, y_w) − r(x_j, y_l) (− margin_j when the dataset has TRL's ``margin`` column):

* L_i = mean_{j ∈ source i} −log σ(Δ_j), the Bradley–Terry loss of source i;
* λ = argmin_{λ ∈ Δ} ‖Σ_i λ_i g_i / s_i‖², g_i = ∂L_i/∂θ_S on the configured subspace S (default
  the reward head, as MORE — Zeng et al., 2023), by :class:`mooptim.weighting.MinNormWeighting`;
  under ``torch.distributed`` the g_i are averaged over ranks first, so λ is identical on every
  rank;
* the loss handed to TRL's backward is Σ_i λ_i L_i (plus TRL's
  ``center_rewards_coefficient`` term when set).

Everything else is TRL's: model loading, tokenization (``processing_class``), TRL's metrics
(accuracy, margin, rewards), optimizer, scheduler, gradient accumulation, logging and checkpoints
(the weighting's EMA / warm-start state is saved beside them as ``more_weighting.pt``). λ and the
per-source losses are logged as ``lambda/<source>`` and ``loss/<source>``. Evaluation uses TRL's
plain loss.

Install with the ``trl`` extra: ``pip install "mooptim[rm,trl]"``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from trl import RewardConfig, RewardTrainer

from applications.reward_models.integrations._project import (
    MoreConfig,
    build_weighting,
    source_losses,
)
from applications.reward_models.integrations.trl_data import (
    SOURCE_COLUMN,
    SourceBalancedSampler,
    SourceCollator,
    pairs_to_dataset,
    source_names,
)

__all__ = [
    "MoreConfig",
    "MoreRewardTrainer",
    "RewardConfig",
    "SourceBalancedSampler",
    "SourceCollator",
    "pairs_to_dataset",
]

WEIGHTING_FILE = "more_weighting.pt"


def _train_sources(dataset: Any) -> list[str]:
    from datasets import Dataset

    if not isinstance(dataset, Dataset):
        raise TypeError(
            "MoreRewardTrainer needs a map-style datasets.Dataset (balanced batches index it), "
            f"got {type(dataset).__name__}"
        )
    if SOURCE_COLUMN not in dataset.column_names:
        raise ValueError(
            f"train_dataset has no {SOURCE_COLUMN!r} column (columns: {dataset.column_names}); "
            "build it with pairs_to_dataset or add the source of every pair"
        )
    return list(dataset[SOURCE_COLUMN])


class MoreRewardTrainer(RewardTrainer):
    """TRL's ``RewardTrainer`` training on MORE's min-norm combination of per-source losses.

    Args:
        model: as for ``RewardTrainer`` (a model id / directory or a ``num_labels=1`` model).
        args: TRL's ``RewardConfig``. ``per_device_train_batch_size`` must be K·m (m pairs of
            each of the K sources per device and micro-batch); ``data_seed`` (else ``seed``)
            seeds the balanced sampler.
        more: the MORE options, the training CLI's :class:`MoreConfig` (``subspace``,
            ``last_n_blocks``, ``normalizer``, ``ema_alpha``, ``strategy``, ``solver``,
            ``scale_by_num_objectives``); default the paper's.
        sources: the K sources in objective order; default: order of first appearance in
            the ``source`` column.
        resample_to: pairs per source per epoch (default the largest source's size).
        **kwargs: every other ``RewardTrainer`` argument (``train_dataset`` with a ``source``
            column is required; ``eval_dataset``, ``processing_class``, ``callbacks``, ...).
            A custom ``data_collator`` must add ``source_ids`` (the pairs' sources, a list) to
            its batches, as :class:`SourceCollator` does.

    Raises:
        TypeError: ``train_dataset`` is not a ``datasets.Dataset``.
        ValueError: no ``source`` column, an unknown or empty source, a batch size that is not
            a multiple of K, a source left without pairs by TRL's ``max_length`` filter, or an
            invalid MORE option.
        NotImplementedError: DeepSpeed or FSDP (the subspace gradients need unsharded
            parameters).
    """

    _tag_names: ClassVar[list[str]] = [*RewardTrainer._tag_names, "more"]

    def __init__(
        self,
        model: Any,
        args: RewardConfig | None = None,
        *,
        more: MoreConfig | None = None,
        sources: Sequence[str] | None = None,
        resample_to: int | None = None,
        **kwargs: Any,
    ) -> None:
        raw = _train_sources(kwargs.get("train_dataset"))
        self.source_names = list(sources) if sources is not None else source_names(raw)
        self.more = more if more is not None else MoreConfig()
        self.resample_to = resample_to
        own_collator = kwargs.get("data_collator") is None
        super().__init__(model, args, **kwargs)
        if own_collator:  # TRL's collator, plus the sources of the pairs
            self.data_collator = SourceCollator(
                pad_token_id=self.data_collator.pad_token_id,
                pad_to_multiple_of=self.data_collator.pad_to_multiple_of,
            )
        self._check_setup(raw)
        self.weighting = build_weighting(self.more, self.model, len(self.source_names))
        device = self.args.device
        self._lambda_sum = torch.zeros(len(self.source_names), dtype=torch.float64, device=device)
        self._loss_sum = torch.zeros_like(self._lambda_sum)
        self._loss_count = torch.zeros_like(self._lambda_sum)
        self._lambda_steps = 0

    # -- set-up ---------------------------------------------------------------------------------

    def _check_setup(self, raw_sources: list[str]) -> None:
        if self.is_deepspeed_enabled or self.is_fsdp_enabled:
            raise NotImplementedError(
                "MoreRewardTrainer does not support DeepSpeed or FSDP: MORE's subspace gradients "
                "need the unsharded parameters (use DDP: accelerate launch / torchrun)"
            )
        unknown = sorted(set(raw_sources) - set(self.source_names))
        if unknown:
            raise ValueError(f"train_dataset has sources {unknown} not in {self.source_names}")
        k = len(self.source_names)
        if self.args.per_device_train_batch_size % k:
            raise ValueError(
                f"per_device_train_batch_size={self.args.per_device_train_batch_size} is not a "
                f"multiple of the number of sources K={k} ({self.source_names}): a balanced "
                "batch holds m pairs of every source"
            )
        before = {n: raw_sources.count(n) for n in self.source_names}
        after_rows = list(self.train_dataset[SOURCE_COLUMN])
        after = {n: after_rows.count(n) for n in self.source_names}
        empty = [n for n in self.source_names if after[n] == 0]
        if empty:
            raise ValueError(
                f"sources {empty} have no training pair (before TRL's max_length="
                f"{self.args.max_length} filter: {before}; after: {after})"
            )
        dropped = {n: before[n] - after[n] for n in self.source_names if before[n] != after[n]}
        if dropped and self.is_world_process_zero():
            import warnings

            warnings.warn(
                f"TRL's max_length={self.args.max_length} filter dropped pairs per source: "
                f"{dropped}",
                stacklevel=3,
            )

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        if SOURCE_COLUMN not in self._signature_columns:
            self._signature_columns = [*self._signature_columns, SOURCE_COLUMN]

    def _get_train_sampler(self, train_dataset: Any = None) -> SourceBalancedSampler:
        dataset = self.train_dataset if train_dataset is None else train_dataset
        k = len(self.source_names)
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return SourceBalancedSampler(
            list(dataset[SOURCE_COLUMN]),
            self.args.per_device_train_batch_size // k,
            self.source_names,
            resample_to=self.resample_to,
            seed=seed,
        )

    # -- the step -------------------------------------------------------------------------------

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        """Σ_i λ_i L_i (+ TRL's centering term) in training; TRL's plain loss in evaluation.

        TRL's own ``compute_loss`` runs the forward pass and records TRL's metrics; the per-source
        losses are taken from the same rewards (one forward pass).
        """
        source_ids = inputs.pop("source_ids", None)
        loss, outputs = super().compute_loss(
            model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch
        )
        if self.model.training and source_ids is not None:
            loss = self._more_loss(outputs.logits, inputs, source_ids)
        return (loss, outputs) if return_outputs else loss

    def _more_loss(
        self, logits: torch.Tensor, inputs: dict[str, Any], source_ids: list[str]
    ) -> torch.Tensor:
        chosen, rejected = torch.chunk(logits.squeeze(-1).float(), chunks=2)
        margins = chosen - rejected
        if "margin" in inputs:
            margins = margins - inputs["margin"]
        losses, _ = source_losses(margins, source_ids, self.source_names)
        out = self.weighting.combine(losses)
        # Accumulated on the device; read once per logging step (in log()).
        self._lambda_sum += out.weights.to(self._lambda_sum)
        present = out.present.to(self._loss_count)
        self._loss_sum += out.losses.to(self._loss_sum) * present
        self._loss_count += present
        self._lambda_steps += 1
        loss = out.loss
        coef = self.args.center_rewards_coefficient
        if coef is not None:
            loss = loss + coef * torch.mean((chosen + rejected) ** 2)
        return loss

    # -- logging and checkpoints ----------------------------------------------------------------

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """TRL's log plus ``lambda/<source>`` (mean λ since the last log) and ``loss/<source>``."""
        if self.model.training and self._lambda_steps:
            lam = (self._lambda_sum / self._lambda_steps).tolist()
            loss = (self._loss_sum / self._loss_count.clamp_min(1)).tolist()
            counts = self._loss_count.tolist()
            for i, name in enumerate(self.source_names):
                logs[f"lambda/{name}"] = lam[i]
                if counts[i]:
                    logs[f"loss/{name}"] = loss[i]
            self._lambda_sum.zero_()
            self._loss_sum.zero_()
            self._loss_count.zero_()
            self._lambda_steps = 0
        super().log(logs, start_time)

    def _save_rng_state(self, output_dir: str) -> None:
        super()._save_rng_state(output_dir)
        if self.is_world_process_zero():  # λ and the EMA are identical on every rank
            torch.save(self.weighting.state_dict(), os.path.join(output_dir, WEIGHTING_FILE))

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is None:
            return
        path = os.path.join(checkpoint, WEIGHTING_FILE)
        if not os.path.isfile(path):
            raise ValueError(
                f"{checkpoint}: no {WEIGHTING_FILE}; not a MoreRewardTrainer checkpoint"
            )
        self.weighting.load_state_dict(torch.load(path, weights_only=True))
