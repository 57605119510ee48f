"""Train one reward model with a :mod:`scheme <.schemes>`: :class:`RewardModelTrainer`.

Per optimizer step, ``gradient_accumulation_steps`` micro-batches of K × m preference pairs
(K sources, m = ``pairs_per_source``) go through the model, chosen and rejected in ONE forward
pass; the scheme turns the per-source Bradley–Terry losses L_i = mean_{j ∈ i} −log σ(Δ_j) into
the loss (MultiTask/Single: the mean over pairs; MORE: Σ_i λ_i L_i with the min-norm λ, averaged
over ranks under DDP so λ is identical on every rank).

:class:`RewardModelTrainer` runs one scheme (TRL's convention: a dataclass config and a trainer
class per job); :func:`.run.run` trains every scheme of a :class:`~.config.TrainConfig` on the
same data and writes the comparison table. Run with ``torchrun --nproc_per_node N -m
applications.reward_models.train ...`` or ``accelerate launch`` for several processes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from accelerate import Accelerator
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from applications.reward_models.data.collate import PairCollator
from applications.reward_models.data.splits import SourceData
from applications.reward_models.evaluation.schema import metrics_document, write_metrics
from applications.reward_models.evaluation.scorer import evaluate_model
from applications.reward_models.modeling.reward_model import pair_rewards
from applications.reward_models.training.build import build_model, make_optimizer, make_scheduler
from applications.reward_models.training.checkpoint import checkpoint_dir, remove_stale
from applications.reward_models.training.config import TrainConfig
from applications.reward_models.training.distributed import make_accelerator, rank_share
from applications.reward_models.training.schemes import Scheme, resolve_scheme
from applications.reward_models.training.step_log import RunLog, StepStats
from applications.reward_models.training.trainer_state import TrainerState

__all__ = [
    "RewardModelTrainer",
    "SchemeResult",
    "metrics_settings",
    "train_scheme",
]


@dataclass(frozen=True)
class SchemeResult:
    """What one scheme's run produced."""

    scheme: str
    run_dir: str
    metrics: dict[str, Any]
    log: list[dict[str, Any]]
    seconds: float
    diffs: dict[str, Any] | None = None
    """Per source, the test pairs' reward differences Δ (``None`` for a scheme reused by a
    resumed run)."""


def metrics_settings(config: TrainConfig, data: SourceData) -> dict[str, Any]:
    """What ``metrics.json`` records of how the pairs were split and scored."""
    return {"split": data.rule, "seed": config.seed, "max_length": config.max_length}


class RewardModelTrainer(TrainerState):
    """Trains (or resumes) one scheme of ``config`` on ``data`` and evaluates it.

    Outputs go to ``<output_dir>/<scheme>``: ``checkpoint-<step>`` every ``save_steps``,
    ``log.jsonl``, ``final/`` (model + tokenizer) and ``metrics.json`` (per-source test metrics).
    ``train()`` runs everything; the pieces are public for callers that drive the loop.

    Args:
        config: the run's settings.
        scheme: a :class:`~.schemes.Scheme` or its name.
        data: the sources' train/test pairs (:func:`~..data.splits.load_source_data`).
        accelerator: shared across schemes of one process (default: a new one).
    """

    def __init__(
        self,
        config: TrainConfig,
        scheme: Scheme | str,
        data: SourceData,
        *,
        accelerator: Accelerator | None = None,
    ) -> None:
        self.config = config
        self.scheme = resolve_scheme(scheme, config)
        self.data = data
        self.names = list(data.names)
        self.accelerator = make_accelerator(config) if accelerator is None else accelerator
        self.run_dir = os.path.join(config.output_dir, self.scheme.name)
        self.global_step = 0
        self.run_log: RunLog | None = None
        self.test_diffs: dict[str, Any] | None = None

    def setup(self) -> None:
        """Seed, build model / sampler / weighting / optimizer / scheduler, resume, open the log."""
        config, acc = self.config, self.accelerator
        self.scheme.check_world_size(config, len(self.names), acc.num_processes)
        os.makedirs(self.run_dir, exist_ok=True)
        set_seed(config.seed)
        model, self.tokenizer = build_model(config)
        self.sampler = self.scheme.sampler(config, self.data.train)
        self.weighting = self.scheme.weighting(config, model, len(self.names))
        optimizer = make_optimizer(config, model)
        self.scheduler = make_scheduler(config, optimizer)  # stepped here, not by accelerate
        self.model, self.optimizer = acc.prepare(model, optimizer)
        self.collator = PairCollator(self.tokenizer, config.max_length)
        rows = self.resume() if config.resume else []
        self.run_log = RunLog(
            self.run_dir, rows, rank=acc.process_index, tensorboard=config.tensorboard
        )
        self._stream = self._batches()

    def _batches(self):
        while True:
            yield from self.sampler

    def step(self) -> StepStats:
        """One optimizer step over ``gradient_accumulation_steps`` micro-batches."""
        acc, config = self.accelerator, self.config
        stats = StepStats(len(self.names), acc.device)
        for _micro in range(config.gradient_accumulation_steps):
            pairs = rank_share(next(self._stream), acc.process_index, acc.num_processes)
            batch = self.collator(pairs)
            inputs = {
                "input_ids": batch["input_ids"].to(acc.device),
                "attention_mask": batch["attention_mask"].to(acc.device),
            }
            with acc.accumulate(self.model):
                r_c, r_r = pair_rewards(self.model, inputs)
                out = self.scheme.loss(r_c - r_r, batch["source_ids"], self.names, self.weighting)
                acc.backward(out.loss)
                if acc.sync_gradients and config.max_grad_norm > 0:
                    acc.clip_grad_norm_(self.model.parameters(), config.max_grad_norm)
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
            stats.add(out)
        self.scheduler.step()
        self.global_step += 1
        return stats

    def log(self, stats: StepStats) -> dict[str, Any]:
        """Append the current step's row (one host sync) to the log; returns it."""
        row = stats.row(
            self.global_step,
            self.scheduler.get_last_lr()[0],
            self.names,
            self.config.gradient_accumulation_steps,
        )
        self.run_log.append(row)
        return row

    def evaluate(self) -> dict[str, Any]:
        """The current model's ``metrics.json`` entry on the test pairs (main process; ``{}``
        elsewhere), computed by the one evaluator (:func:`evaluation.scorer.evaluate_model`)."""
        if not self.is_main_process:
            return {}
        result = evaluate_model(
            self.accelerator.unwrap_model(self.model),
            self.tokenizer,
            self.data.test,
            max_length=self.config.max_length,
            batch_size=self.config.eval_batch_size,
        )
        self.test_diffs = result.diffs
        return result.entry

    def _after_step(self, stats: StepStats, bar: Any) -> None:
        config, step = self.config, self.global_step
        if step % config.logging_steps == 0 or step == config.max_steps:
            row = self.log(stats)
            bar.set_postfix(loss=f"{row['loss']:.3f}")
        if config.save_steps and step % config.save_steps == 0 and step < config.max_steps:
            self.save(checkpoint_dir(self.run_dir, step))
            if self.is_main_process:
                remove_stale(self.run_dir, config.save_total_limit)

    def train(self, *, stop_after: int | None = None) -> SchemeResult:
        """Set up, train to ``max_steps``, save ``final/``, evaluate and write ``metrics.json``.

        Args:
            stop_after: stop after this many optimizer steps without finishing (tests of resume:
                the checkpoint written at that step is what a crash would leave).
        """
        start = time.perf_counter()
        self.setup()
        bar = tqdm(
            total=self.config.max_steps,
            initial=self.global_step,
            desc=self.scheme.name,
            disable=not (self.config.progress_bar and self.accelerator.is_local_main_process),
            dynamic_ncols=True,
        )
        try:
            while self.global_step < self.config.max_steps:
                stats = self.step()
                bar.update(1)
                self._after_step(stats, bar)
                if stop_after is not None and self.global_step >= stop_after:
                    return self._result({}, start)
        finally:
            bar.close()
            self.run_log.close()
        self.save_final()
        metrics = self.evaluate()
        if self.is_main_process:
            self._write_metrics(metrics, time.perf_counter() - start)
        self.accelerator.wait_for_everyone()
        return self._result(metrics, start)

    def _write_metrics(self, metrics: dict[str, Any], seconds: float) -> None:
        # Written atomically: its presence marks the scheme finished for a resumed run.
        metrics.update(path=os.path.join(self.run_dir, "final"), seconds=seconds)
        settings = {
            **metrics_settings(self.config, self.data),
            "num_processes": self.accelerator.num_processes,
        }
        document = metrics_document({self.scheme.name: metrics}, settings=settings)
        write_metrics(os.path.join(self.run_dir, "metrics.json"), document)

    def _result(self, metrics: dict[str, Any], start: float) -> SchemeResult:
        rows = list(self.run_log.rows)
        seconds = time.perf_counter() - start
        return SchemeResult(self.scheme.name, self.run_dir, metrics, rows, seconds, self.test_diffs)


def train_scheme(
    config: TrainConfig,
    scheme: Scheme | str,
    data: SourceData,
    *,
    accelerator: Accelerator | None = None,
    stop_after: int | None = None,
) -> SchemeResult:
    """Train (or resume) one scheme and evaluate it: ``RewardModelTrainer(...).train()``."""
    trainer = RewardModelTrainer(config, scheme, data, accelerator=accelerator)
    return trainer.train(stop_after=stop_after)
