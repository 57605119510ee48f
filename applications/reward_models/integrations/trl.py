"""MORE inside TRL: :class:`MoreRewardTrainer`, a ``trl.RewardTrainer`` with min-norm weighting.

Per micro-batch of K·m pairs (m of each of the K sources, :class:`SourceBalancedSampler`), with
Δ_j = r(x_j, y_w) − r(x_j, y_l) (− margin_j when the dataset has TRL's ``margin`` column):

* L_i = mean_{j ∈ source i} −log σ(Δ_j), the Bradley–Terry loss of source i;
* λ from the g_i = ∂L_i/∂θ_S on the configured subspace S (default the reward head), by the
  configured weighting (default MGDA's λ = argmin_{λ ∈ Δ} ‖Σ_i λ_i g_i / s_i‖², as MORE — Zeng
  et al., 2023): the project's one MORE step :class:`~..training.step.MoreStep`, the training
  CLI's, with every ``more_*`` option of :class:`~.trl_config.MoreRewardConfig` (``lambda_pairs``
  included); under ``torch.distributed`` the g_i are averaged over ranks first, so λ is
  identical on every rank;
* the loss handed to TRL's backward is Σ_i λ_i L_i (plus TRL's
  ``center_rewards_coefficient`` term when set).

Everything else is TRL's: model loading, tokenization (``processing_class``), TRL's metrics
(accuracy, margin, rewards), optimizer, scheduler, gradient accumulation, logging and checkpoints
(the weighting's configuration and EMA / warm-start state are saved beside them as
``more_weighting.pt``; the MORE options are recorded in the model card). λ and the per-source
losses are logged as ``lambda/<source>`` and ``loss/<source>``. Evaluation uses TRL's plain loss
and adds per-source accuracy and ECE (``eval_accuracy/<source>``, ``eval_ece/<source>``; the
project's :mod:`~..evaluation.metrics`).

Install with the ``trl`` extra: ``pip install -e ".[rm,trl]"``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from trl import RewardConfig, RewardTrainer

from applications.reward_models.integrations.trl_config import MoreRewardConfig, more_config
from applications.reward_models.integrations.trl_data import (
    SOURCE_COLUMN,
    SourceBalancedSampler,
    SourceCollator,
    pairs_to_dataset,
    source_names,
)
from applications.reward_models.integrations.trl_eval import SourceMargins, more_card_section
from applications.reward_models.training.weighting import more_step

__all__ = [
    "MoreRewardConfig",
    "MoreRewardTrainer",
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
        args: a :class:`~.trl_config.MoreRewardConfig` (TRL's ``RewardConfig`` plus the
            ``more_*`` options; a plain ``RewardConfig`` trains with the paper's MORE options).
            ``per_device_train_batch_size`` must be K·m (m pairs of each of the K sources per
            device and micro-batch); ``data_seed`` (else ``seed``) seeds the balanced sampler.
        sources: the K sources in objective order; default: order of first appearance in
            the ``source`` column.
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
        sources: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        raw = _train_sources(kwargs.get("train_dataset"))
        self.source_names = list(sources) if sources is not None else source_names(raw)
        self.more = more_config(args)
        self.resample_to = getattr(args, "more_resample_to", None)
        own_collator = kwargs.get("data_collator") is None
        super().__init__(model, args, **kwargs)
        if own_collator:  # TRL's collator, plus the sources of the pairs
            self.data_collator = SourceCollator(
                pad_token_id=self.data_collator.pad_token_id,
                pad_to_multiple_of=self.data_collator.pad_to_multiple_of,
            )
        self._check_setup(raw)
        self.more_step = more_step(self.more, self.model, len(self.source_names))
        self.weighting = self.more_step.weighting
        self._eval_margins = SourceMargins(self.source_names)
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
        elif source_ids is not None:
            self._eval_margins.add(self.accelerator, outputs.logits, source_ids)
        return (loss, outputs) if return_outputs else loss

    def _more_loss(
        self, logits: torch.Tensor, inputs: dict[str, Any], source_ids: list[str]
    ) -> torch.Tensor:
        chosen, rejected = torch.chunk(logits.squeeze(-1).float(), chunks=2)
        margins = chosen - rejected
        if "margin" in inputs:
            margins = margins - inputs["margin"]
        out = self.more_step(margins, source_ids, self.source_names)
        # Accumulated on the device; read once per logging step (in log()).
        self._lambda_sum += out.weights.to(self._lambda_sum)
        present = out.solved.present.to(self._loss_count)
        zero = margins.new_zeros(())
        values = torch.stack([zero if li is None else li.detach() for li in out.losses])
        self._loss_sum += values.to(self._loss_sum)
        self._loss_count += present
        self._lambda_steps += 1
        loss = out.loss
        coef = self.args.center_rewards_coefficient
        if coef is not None:
            loss = loss + coef * torch.mean((chosen + rejected) ** 2)
        return loss

    # -- evaluation, logging and checkpoints ----------------------------------------------------

    def evaluate(
        self,
        eval_dataset: Any = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ) -> dict[str, float]:
        """TRL's evaluation plus per-source accuracy and ECE (``<prefix>_accuracy/<source>``,
        ``<prefix>_ece/<source>``; M = 10 equal-width bins on both orderings, the paper's ECE)
        when the evaluation dataset has a ``source`` column."""
        self._eval_margins.reset()
        metrics = super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        per_source = self._eval_margins.metrics(metric_key_prefix)
        if per_source:
            metrics.update(per_source)
            super().log(per_source)
        return metrics

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
            record = {"config": self.more_step.config(), "state": self.more_step.state_dict()}
            torch.save(record, os.path.join(output_dir, WEIGHTING_FILE))

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is None:
            return
        path = os.path.join(checkpoint, WEIGHTING_FILE)
        if not os.path.isfile(path):
            raise ValueError(
                f"{checkpoint}: no {WEIGHTING_FILE}; not a MoreRewardTrainer checkpoint"
            )
        record = torch.load(path, weights_only=True)
        if record.get("config") != self.more_step.config():
            raise ValueError(
                f"{path}: the checkpoint's weighting {record.get('config')} is not this run's "
                f"{self.more_step.config()}; resume with the same more_* options"
            )
        self.more_step.load_state_dict(record["state"])

    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """TRL's model card plus a section recording the MORE options of the run."""
        super().create_model_card(*args, **kwargs)
        path = os.path.join(self.args.output_dir, "README.md")
        if self.is_world_process_zero() and os.path.isfile(path):
            with open(path, "a", encoding="utf-8") as f:
                f.write(more_card_section(self.more, self.source_names))
