"""Train reward models with the Single, MultiTask or MORE scheme (``python -m ... .train``).

Per optimizer step, ``gradient_accumulation_steps`` micro-batches of K × m preference pairs
(K sources, m = ``pairs_per_source``) go through the model, chosen and rejected in ONE forward
pass. With Δ_j = r(x_j, y_w) − r(x_j, y_l) the Bradley–Terry loss of source i is
L_i = mean_{j ∈ i} −log σ(Δ_j), and the training loss is

* ``single``: L_s of one source (batches of K × m pairs of that source);
* ``multitask``: the mean of −log σ(Δ_j) over a uniformly shuffled batch of the union;
* ``more``: Σ_i λ_i L_i over per-source balanced batches, λ = argmin_{λ∈Δ} ‖Σ_i λ_i g_i/s_i‖²
  with g_i = ∂L_i/∂θ_S on the subspace S (default the reward head, as in MORE — Zeng et al.,
  2023) and s_i the normalizer's scale (default ‖g_i‖), computed by
  :class:`mooptim.weighting.MinNormWeighting` (gradients averaged over ranks under DDP, so λ is
  identical on every rank).

Run with ``accelerate launch -m applications.reward_models.train ...`` for several GPUs.
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
import torch.nn.functional as F
from torch import nn

from applications.reward_models.data.splits import SourceData, load_source_data
from applications.reward_models.modeling.reward_model import (
    freeze_below,
    load_reward_model,
    load_tokenizer,
    pair_rewards,
    reward_head,
    transformer_blocks,
)
from applications.reward_models.training.checkpoint import (
    latest_checkpoint,
    load_trainer_state,
    remove_stale,
    save_checkpoint,
)
from applications.reward_models.training.config import TrainConfig, parse_args, save_config


@dataclass
class SchemeResult:
    """What one scheme's run produced."""

    scheme: str
    run_dir: str
    metrics: dict[str, Any]
    log: list[dict[str, Any]]
    seconds: float


# -- pieces -----------------------------------------------------------------------------------


def make_accelerator(config: TrainConfig) -> Any:
    """An ``Accelerator``; multi-process runs on a machine without CUDA use gloo on the CPU.

    accelerate only takes the multi-CPU path when asked for the CPU (``accelerate launch --cpu``
    sets ``ACCELERATE_USE_CPU``); a ``torchrun`` / spawned launch without CUDA would otherwise
    silently train each rank alone.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    state = AcceleratorState._shared_state
    if (
        state
        and str(state.get("_mixed_precision", config.mixed_precision)) != config.mixed_precision
    ):
        # accelerate keeps one process-wide state; a later run in the same process (tests,
        # reproduce scripts) with another precision would otherwise be refused.
        AcceleratorState._reset_state()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cpu = world > 1 and not torch.cuda.is_available()
    extra = {"cpu": True} if cpu else {}
    return Accelerator(
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        **extra,
    )


def make_sampler(config: TrainConfig, scheme: str, train: dict[str, list]) -> Any:
    """The scheme's batch sampler (every scheme sees K × m pairs per micro-batch)."""
    from applications.reward_models.data.sampling import BalancedBatchSampler, UniformBatchSampler

    k, m = len(train), config.pairs_per_source
    if scheme == "more":
        return BalancedBatchSampler(train, m, resample_to=config.resample_to, seed=config.seed)
    if scheme == "multitask":
        return UniformBatchSampler.from_sources(
            train, batch_size=k * m, resample_to=config.resample_to, seed=config.seed
        )
    name = config.single_source or next(iter(train))
    if name not in train:
        raise ValueError(f"single_source {name!r} is not one of {list(train)}")
    return UniformBatchSampler(train[name], batch_size=k * m, seed=config.seed)


def make_weighting(config: TrainConfig, model: nn.Module, num_sources: int) -> Any:
    """MORE's :class:`~mooptim.weighting.MinNormWeighting` on the configured subspace."""
    from mooptim.gradients import GramAccumulation, SubspaceAutograd
    from mooptim.normalizers import normalizer_from_name
    from mooptim.solver import MinNormSolver
    from mooptim.subspace import Subspace
    from mooptim.weighting import MinNormWeighting

    more = config.more
    if more.subspace == "head":
        subspace = Subspace.from_module(reward_head(model))
    elif more.subspace == "last_blocks":
        blocks = transformer_blocks(model)
        head = reward_head(model)
        block_sub = Subspace.last_blocks(model, blocks, more.last_n_blocks, skip_frozen=True)
        subspace = Subspace(
            list(block_sub.params) + list(head.parameters()),
            list(block_sub.names or ()) + [f"head.{n}" for n, _ in head.named_parameters()],
        )
    else:
        subspace = Subspace.all(model)
    strategy = SubspaceAutograd() if more.strategy == "autograd" else GramAccumulation()
    normalizer = None if more.normalizer == "none" else normalizer_from_name(more.normalizer)
    return MinNormWeighting(
        subspace,
        solver=MinNormSolver(more.solver),
        normalizer=normalizer,
        ema_alpha=more.ema_alpha,
        strategy=strategy,
        scale_by_num_objectives=more.scale_by_num_objectives,
        num_objectives=num_sources,
    )


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


def source_losses(
    margins: torch.Tensor, source_ids: list[str], names: list[str]
) -> tuple[list[torch.Tensor | None], list[torch.Tensor | None]]:
    """Per-source Bradley–Terry losses mean −log σ(Δ) and accuracies (``None`` if absent)."""
    index = {n: i for i, n in enumerate(names)}
    ids = torch.tensor([index[s] for s in source_ids], device=margins.device)
    nll = -F.logsigmoid(margins)
    correct = (margins > 0).to(margins.dtype) + 0.5 * (margins == 0).to(margins.dtype)
    losses: list[torch.Tensor | None] = []
    accs: list[torch.Tensor | None] = []
    for i in range(len(names)):
        mask = ids == i
        if not source_ids.count(names[i]):
            losses.append(None)
            accs.append(None)
            continue
        losses.append(nll[mask].mean())
        accs.append(correct[mask].mean().detach())
    return losses, accs


# -- one scheme -------------------------------------------------------------------------------


def train_scheme(
    config: TrainConfig,
    scheme: str,
    data: SourceData,
    *,
    accelerator: Any = None,
    stop_after: int | None = None,
) -> SchemeResult:
    """Train (or resume) one scheme and evaluate it on every source's test pairs.

    Args:
        stop_after: stop after this many optimizer steps without finishing (tests of resume:
            the checkpoint written at that step is what a crash would leave).

    Returns:
        The per-source test metrics and the step log.
    """
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm
    from transformers import get_scheduler

    from applications.reward_models.data.collate import PairCollator

    start = time.perf_counter()
    if accelerator is None:
        accelerator = make_accelerator(config)
    rank, world = accelerator.process_index, accelerator.num_processes
    run_dir = os.path.join(config.output_dir, scheme)
    os.makedirs(run_dir, exist_ok=True)
    names = data.names

    set_seed(config.seed)
    model, tokenizer = load_reward_model(config.model, config.pooling, dropout=config.dropout)
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
    sampler = make_sampler(config, scheme, data.train)
    weighting = make_weighting(config, model, len(names)) if scheme == "more" else None
    optimizer = make_optimizer(config, model)
    scheduler = get_scheduler(
        config.lr_scheduler_type,
        optimizer,
        num_warmup_steps=math.ceil(config.warmup_ratio * config.max_steps),
        num_training_steps=config.max_steps,
    )
    # The scheduler is stepped by hand once per optimizer step: accelerate's wrapper would step it
    # once per process, which assumes a sharded dataloader (we shard batches ourselves).
    model, optimizer = accelerator.prepare(model, optimizer)
    collator = PairCollator(tokenizer, config.max_length)

    step = 0
    log: list[dict[str, Any]] = []
    log_path = os.path.join(run_dir, "log.jsonl")
    resume_from = latest_checkpoint(run_dir) if config.resume else None
    if resume_from is not None:
        state = load_trainer_state(resume_from, rank)
        from safetensors.torch import load_file

        weights: dict[str, torch.Tensor] = {}
        for name in sorted(os.listdir(resume_from)):  # one file, or shards of a large model
            if name.endswith(".safetensors"):
                weights.update(load_file(os.path.join(resume_from, name)))
        missing, unexpected = accelerator.unwrap_model(model).load_state_dict(weights, strict=False)
        if unexpected or missing:
            raise ValueError(
                f"{resume_from}: weights do not match the model: {missing or unexpected}"
            )
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        sampler.load_state_dict(state["sampler"])
        if weighting is not None:
            weighting.load_state_dict(state["weighting"])
        step = state["step"]
        log = state["log"]
        accelerator.print(f"[{scheme}] resumed from {resume_from} at step {step}")
    if accelerator.is_main_process:
        with open(log_path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in log)
    writer = None
    if config.tensorboard and accelerator.is_main_process:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(os.path.join(run_dir, "tensorboard"))

    def batches():
        while True:
            yield from sampler

    stream = batches()
    bar = tqdm(
        total=config.max_steps,
        initial=step,
        desc=scheme,
        disable=not (config.progress_bar and accelerator.is_local_main_process),
        dynamic_ncols=True,
    )
    unwrapped = accelerator.unwrap_model(model)

    def save(path: str) -> None:
        def write_model(directory: str) -> None:
            accelerator.unwrap_model(model).save_pretrained(directory, safe_serialization=True)
            tokenizer.save_pretrained(directory)

        trainer_state = {
            "step": step,
            "scheme": scheme,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "sampler": sampler.state_dict(),
            "weighting": weighting.state_dict() if weighting is not None else None,
            "log": log,
        }
        save_checkpoint(
            path,
            write_model=write_model,
            trainer_state=trainer_state,
            rank=rank,
            world_size=world,
            barrier=accelerator.wait_for_everyone,
        )

    while step < config.max_steps:
        # Running sums stay on the device; they are read (one host sync) only at logging steps.
        device = accelerator.device
        sums = torch.zeros(2, len(names), dtype=torch.float64, device=device)
        counts = [0] * len(names)
        lam_sum = torch.zeros(len(names), dtype=torch.float64, device=device)
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        for _micro in range(config.gradient_accumulation_steps):
            pairs = next(stream)[rank::world]
            batch = collator(pairs)
            ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
            with accelerator.accumulate(model):
                r_c, r_r = pair_rewards(model, {"input_ids": ids, "attention_mask": mask})
                losses, accs = source_losses(r_c - r_r, batch["source_ids"], names)
                if weighting is not None:
                    out = weighting.combine(losses)
                    loss = out.loss
                    lam_sum += out.weights.detach().to(lam_sum)
                else:
                    loss = -F.logsigmoid(r_c - r_r).mean()
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            total_loss += loss.detach().to(total_loss)
            for i, (li, ai) in enumerate(zip(losses, accs, strict=True)):
                if li is not None:
                    sums[0, i] += li.detach().to(sums)
                    sums[1, i] += ai.to(sums)
                    counts[i] += 1
        scheduler.step()
        step += 1
        bar.update(1)
        if step % config.logging_steps == 0 or step == config.max_steps:
            per = (sums / torch.tensor(counts, device=device).clamp_min(1)).tolist()
            row: dict[str, Any] = {
                "step": step,
                "loss": total_loss.item() / config.gradient_accumulation_steps,
                "lr": scheduler.get_last_lr()[0],
                "loss_by_source": {
                    n: (per[0][i] if counts[i] else None) for i, n in enumerate(names)
                },
                "accuracy_by_source": {
                    n: (per[1][i] if counts[i] else None) for i, n in enumerate(names)
                },
            }
            if weighting is not None:
                lam = (lam_sum / config.gradient_accumulation_steps).tolist()
                row["lambda"] = {n: lam[i] for i, n in enumerate(names)}
            log.append(row)
            bar.set_postfix(loss=f"{row['loss']:.3f}")
            if accelerator.is_main_process:
                with open(log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
                if writer is not None:
                    writer.add_scalar("train/loss", row["loss"], step)
                    writer.add_scalar("train/lr", row["lr"], step)
                    for key in ("loss_by_source", "accuracy_by_source", "lambda"):
                        for n, v in row.get(key, {}).items():
                            if v is not None:
                                writer.add_scalar(f"{key}/{n}", v, step)
        if config.save_steps and step % config.save_steps == 0 and step < config.max_steps:
            from applications.reward_models.training.checkpoint import checkpoint_dir

            save(checkpoint_dir(run_dir, step))
            if accelerator.is_main_process:
                remove_stale(run_dir, config.save_total_limit)
        if stop_after is not None and step >= stop_after:
            bar.close()
            return SchemeResult(scheme, run_dir, {}, log, time.perf_counter() - start)
    bar.close()
    if writer is not None:
        writer.close()

    final_dir = os.path.join(run_dir, "final")
    if accelerator.is_main_process:
        from applications.reward_models.training.checkpoint import atomic_directory

        with atomic_directory(final_dir) as tmp:
            unwrapped.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
    metrics: dict[str, Any] = {}
    if accelerator.is_main_process:
        from applications.reward_models.evaluation.schema import metrics_document, write_metrics
        from applications.reward_models.evaluation.scorer import evaluate_model

        result = evaluate_model(
            unwrapped,
            tokenizer,
            data.test,
            max_length=config.max_length,
            batch_size=config.eval_batch_size,
        )
        metrics = result.entry
        metrics.update(path=final_dir, seconds=time.perf_counter() - start)
        settings = {"split": data.rule, "seed": config.seed, "max_length": config.max_length}
        doc = metrics_document({scheme: metrics}, settings=settings)
        write_metrics(os.path.join(run_dir, "metrics.json"), doc)
    accelerator.wait_for_everyone()
    return SchemeResult(scheme, run_dir, metrics, log, time.perf_counter() - start)


# -- CLI --------------------------------------------------------------------------------------


def run(config: TrainConfig) -> dict[str, SchemeResult]:
    """Load the data once, train every scheme of ``config`` on it, write the outputs."""
    from transformers.utils import logging as hf_logging

    from applications.reward_models.evaluation.report import comparison_table
    from applications.reward_models.evaluation.schema import (
        metrics_document,
        read_metrics,
        write_metrics,
    )

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    accelerator = make_accelerator(config)
    os.makedirs(config.output_dir, exist_ok=True)
    data = load_source_data(config, load_tokenizer(config.model))
    if accelerator.is_main_process:
        save_config(config, os.path.join(config.output_dir, "config.yaml"))
        with open(os.path.join(config.output_dir, "drops.json"), "w", encoding="utf-8") as f:
            json.dump(data.drops.to_dict(), f, indent=2)
        sizes = ", ".join(f"{n}={len(p)}" for n, p in data.train.items())
        accelerator.print(f"train pairs: {sizes}; {data.drops.summary()}")
    results: dict[str, SchemeResult] = {}
    for scheme in config.schemes():
        done = os.path.join(config.output_dir, scheme, "metrics.json")
        if config.resume and os.path.isfile(done):
            metrics = read_metrics(done)["models"][scheme]
            results[scheme] = SchemeResult(scheme, os.path.dirname(done), metrics, [], 0.0)
            accelerator.print(f"[{scheme}] already finished; reusing {done}")
            continue
        results[scheme] = train_scheme(config, scheme, data, accelerator=accelerator)
    if accelerator.is_main_process:
        table = comparison_table({s: r.metrics for s, r in results.items()})
        entries = {s: {**r.metrics, "run_dir": r.run_dir} for s, r in results.items()}
        settings = {"split": data.rule, "seed": config.seed, "max_length": config.max_length}
        doc = metrics_document(entries, settings=settings, drops=data.drops.to_dict())
        write_metrics(os.path.join(config.output_dir, "metrics.json"), doc)
        with open(os.path.join(config.output_dir, "table.txt"), "w", encoding="utf-8") as f:
            f.write(table + "\n")
        print(f"\nper-source test metrics (output: {config.output_dir})\n{table}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse ``argv`` (default ``sys.argv[1:]``), train, print the table."""
    try:
        config = parse_args(argv)
    except (ValueError, TypeError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    run(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
