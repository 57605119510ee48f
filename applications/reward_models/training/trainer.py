"""Train reward models with a :mod:`scheme <.schemes>` (``python -m ... .train``).

Per optimizer step, ``gradient_accumulation_steps`` micro-batches of K × m preference pairs
(K sources, m = ``pairs_per_source``) go through the model, chosen and rejected in ONE forward
pass; the scheme turns the per-source Bradley–Terry losses L_i = mean_{j ∈ i} −log σ(Δ_j) into
the loss (MultiTask/Single: the mean over pairs; MORE: Σ_i λ_i L_i with the min-norm λ, averaged
over ranks under DDP so λ is identical on every rank).

:class:`RewardModelTrainer` runs one scheme (TRL's convention: a dataclass config and a trainer
class per job); :func:`run` trains every scheme of a :class:`~.config.TrainConfig` on the same
data and writes the comparison table. Run with ``torchrun --nproc_per_node N -m
applications.reward_models.train ...`` or ``accelerate launch`` for several processes.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch import nn
from tqdm.auto import tqdm
from transformers import get_scheduler
from transformers.utils import logging as hf_logging

from applications.reward_models.data.collate import PairCollator
from applications.reward_models.data.splits import SourceData, load_source_data
from applications.reward_models.evaluation.report import comparison_table
from applications.reward_models.evaluation.schema import (
    metrics_document,
    read_metrics,
    write_metrics,
)
from applications.reward_models.evaluation.scorer import evaluate_model
from applications.reward_models.files import write_text_atomic
from applications.reward_models.modeling.reward_model import (
    freeze_below,
    load_reward_model,
    load_tokenizer,
    pair_rewards,
)
from applications.reward_models.training.checkpoint import (
    atomic_directory,
    checkpoint_dir,
    latest_checkpoint,
    load_model_weights,
    load_trainer_state,
    remove_stale,
    save_checkpoint,
)
from applications.reward_models.training.config import TrainConfig, parse_args
from applications.reward_models.training.distributed import make_accelerator, rank_share
from applications.reward_models.training.resume import (
    ResumeConfigError,
    check_resume_config,
    write_config,
)
from applications.reward_models.training.schemes import Scheme, resolve_scheme
from applications.reward_models.training.step_log import RunLog, StepStats

__all__ = [
    "RewardModelTrainer",
    "SchemeResult",
    "build_model",
    "main",
    "make_optimizer",
    "run",
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


def build_model(config: TrainConfig) -> tuple[nn.Module, Any]:
    """The reward model (frozen below ``trainable_blocks``, in train mode) and its tokenizer."""
    model, tokenizer = load_reward_model(
        config.model,
        config.pooling,
        dropout=config.dropout,
        trust_remote_code=config.trust_remote_code,
    )
    if config.trainable_blocks is not None:
        freeze_below(model, config.trainable_blocks)
    if config.gradient_checkpointing:
        enable = getattr(model, "activation_checkpointing_enable", None)  # transformers >= 5.x
        if enable is not None:
            enable()
        else:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
        model.config.use_cache = False
    model.train()
    return model, tokenizer


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases and normalization weights (1-D parameters)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        [g for g in groups if g["params"]],
        lr=config.learning_rate,
        betas=(config.adam_beta1, config.adam_beta2),
        eps=config.adam_epsilon,
    )


class RewardModelTrainer:
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

    @property
    def is_main_process(self) -> bool:
        """Whether this process writes the run's files."""
        return self.accelerator.is_main_process

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
        self.scheduler = get_scheduler(
            config.lr_scheduler_type,
            optimizer,
            num_warmup_steps=math.ceil(config.warmup_ratio * config.max_steps),
            num_training_steps=config.max_steps,
        )
        # The scheduler is stepped by hand once per optimizer step: accelerate's wrapper would
        # step it once per process, which assumes a sharded dataloader (we shard batches ourselves).
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

    def state_dict(self) -> dict[str, Any]:
        """Everything besides the weights and RNG that resuming needs (``trainer_state.pt``).

        ``scaler`` is the fp16 ``GradScaler``'s state (loss scale, growth tracker) when accelerate
        uses one, else ``None``.
        """
        scaler = self.accelerator.scaler
        return {
            "step": self.global_step,
            "scheme": self.scheme.name,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "sampler": self.sampler.state_dict(),
            "weighting": self.weighting.state_dict() if self.weighting is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "log": self.run_log.rows if self.run_log is not None else [],
        }

    def resume(self) -> list[dict[str, Any]]:
        """Restore the latest checkpoint of ``run_dir`` (if any); returns its log rows."""
        path = latest_checkpoint(self.run_dir)
        if path is None:
            return []
        state = load_trainer_state(path, self.accelerator.process_index)
        load_model_weights(path, self.accelerator.unwrap_model(self.model))
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.sampler.load_state_dict(state["sampler"])
        if self.weighting is not None:
            self.weighting.load_state_dict(state["weighting"])
        scaler = self.accelerator.scaler
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        self.global_step = state["step"]
        self.accelerator.print(f"[{self.scheme.name}] resumed from {path} at step {state['step']}")
        return state["log"]

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

    def save(self, path: str) -> None:
        """Write an atomic checkpoint to ``path`` (collective: every rank calls it)."""
        acc = self.accelerator

        def write_model(directory: str) -> None:
            acc.unwrap_model(self.model).save_pretrained(directory, safe_serialization=True)
            self.tokenizer.save_pretrained(directory)

        save_checkpoint(
            path,
            write_model=write_model,
            trainer_state=self.state_dict(),
            rank=acc.process_index,
            world_size=acc.num_processes,
            barrier=acc.wait_for_everyone,
        )

    def save_final(self) -> str:
        """Write ``final/`` (model + tokenizer, atomically) from the main process; returns it."""
        final_dir = os.path.join(self.run_dir, "final")
        if self.is_main_process:
            with atomic_directory(final_dir) as tmp:
                self.accelerator.unwrap_model(self.model).save_pretrained(
                    tmp, safe_serialization=True
                )
                self.tokenizer.save_pretrained(tmp)
        return final_dir

    def evaluate(self) -> dict[str, Any]:
        """The current model's ``metrics.json`` entry on the test pairs (main process; ``{}``
        elsewhere), computed by the one evaluator (:func:`evaluation.scorer.evaluate_model`)."""
        if not self.is_main_process:
            return {}
        return evaluate_model(
            self.accelerator.unwrap_model(self.model),
            self.tokenizer,
            self.data.test,
            max_length=self.config.max_length,
            batch_size=self.config.eval_batch_size,
        ).entry

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
            **_settings(self.config, self.data),
            "num_processes": self.accelerator.num_processes,
        }
        document = metrics_document({self.scheme.name: metrics}, settings=settings)
        write_metrics(os.path.join(self.run_dir, "metrics.json"), document)

    def _result(self, metrics: dict[str, Any], start: float) -> SchemeResult:
        rows = list(self.run_log.rows)
        seconds = time.perf_counter() - start
        return SchemeResult(self.scheme.name, self.run_dir, metrics, rows, seconds)


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


# -- the whole run ----------------------------------------------------------------------------


def _finished(config: TrainConfig, scheme: Scheme) -> SchemeResult | None:
    """A resumed run's already finished scheme (its ``metrics.json``), else ``None``."""
    done = os.path.join(config.output_dir, scheme.name, "metrics.json")
    if not (config.resume and os.path.isfile(done)):
        return None
    metrics = read_metrics(done)["models"][scheme.name]
    return SchemeResult(scheme.name, os.path.dirname(done), metrics, [], 0.0)


def _write_inputs(config: TrainConfig, data: SourceData, accelerator: Accelerator) -> None:
    path = os.path.join(config.output_dir, "config.yaml")
    if not (config.resume and os.path.isfile(path)):  # a resumed run keeps the original
        write_config(config, path)
    write_text_atomic(
        os.path.join(config.output_dir, "drops.json"), json.dumps(data.drops.to_dict(), indent=2)
    )
    sizes = ", ".join(f"{n}={len(p)}" for n, p in data.train.items())
    accelerator.print(f"train pairs: {sizes}; {data.drops.summary()}")


def _settings(config: TrainConfig, data: SourceData) -> dict[str, Any]:
    """What ``metrics.json`` records of how the pairs were split and scored."""
    return {"split": data.rule, "seed": config.seed, "max_length": config.max_length}


def _write_summary(config: TrainConfig, data: SourceData, results: dict[str, SchemeResult]) -> None:
    table = comparison_table({s: r.metrics for s, r in results.items()})
    entries = {s: {**r.metrics, "run_dir": r.run_dir} for s, r in results.items()}
    document = metrics_document(
        entries, settings=_settings(config, data), drops=data.drops.to_dict()
    )
    write_metrics(os.path.join(config.output_dir, "metrics.json"), document)
    write_text_atomic(os.path.join(config.output_dir, "table.txt"), table + "\n")
    print(f"\nper-source test metrics (output: {config.output_dir})\n{table}")


def run(config: TrainConfig) -> dict[str, SchemeResult]:
    """Load the data once, train every scheme of ``config`` on it, write the outputs."""
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    accelerator = make_accelerator(config)
    if config.resume:  # every rank refuses alike, before anything is written
        check_resume_config(config, os.path.join(config.output_dir, "config.yaml"))
    accelerator.wait_for_everyone()
    with accelerator.main_process_first():  # rank 0 fills download / dataset caches first
        os.makedirs(config.output_dir, exist_ok=True)
        data = load_source_data(
            config, load_tokenizer(config.model, trust_remote_code=config.trust_remote_code)
        )
    if accelerator.is_main_process:
        _write_inputs(config, data, accelerator)
    results: dict[str, SchemeResult] = {}
    for scheme in (resolve_scheme(name) for name in config.schemes()):
        finished = _finished(config, scheme)
        if finished is not None:
            done = os.path.join(finished.run_dir, "metrics.json")
            accelerator.print(f"[{scheme.name}] already finished; reusing {done}")
        else:
            finished = train_scheme(config, scheme, data, accelerator=accelerator)
        results[scheme.name] = finished
    if accelerator.is_main_process:
        _write_summary(config, data, results)
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse ``argv`` (default ``sys.argv[1:]``), train, print the table."""
    try:
        config = parse_args(argv)
    except (ValueError, TypeError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        run(config)
    except ResumeConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
