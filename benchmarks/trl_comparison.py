"""Training throughput (pairs/s): TRL's ``RewardTrainer``, the project's trainers, MORE-in-TRL.

Four variants train the same reward model on the same simulator pairs (K sources × m pairs per
step, the same tokenization: the project's, pre-computed for the TRL variants by
``pairs_to_dataset``), for the same number of steps, all with full fine-tuning, AdamW, float32,
no gradient checkpointing, no dropout and a log row every step:

    (a) trl        TRL's plain ``RewardTrainer`` (uniformly shuffled batches, mean BT loss)
    (b) multitask  the project's trainer, ``scheme="multitask"``
    (c) more       the project's trainer, ``scheme="more"`` (head subspace, the paper's options)
    (d) more_trl   ``MoreRewardTrainer`` (MORE inside TRL, same options as (c))

What is timed: the interval between the starts of consecutive training forward passes of the
model (a global forward pre-hook), i.e. one whole optimizer step: data loading and collation,
forward, backward, weighting, clipping, optimizer, scheduler and logging. Model loading, dataset
preparation, evaluation and saving are outside it. Each run takes ``--warmup`` untimed steps,
then ``--steps`` timed ones. Variants alternate within each round (load drift hits all alike);
the table gives the median step time over rounds, pairs/s and the ratio to (a).

    python benchmarks/trl_comparison.py --quick          # tiny test model, seconds
    python benchmarks/trl_comparison.py                  # MiniLM-L6 (offline package)
    python benchmarks/trl_comparison.py --profile more_trl   # cProfile of one variant's steps
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

VARIANTS = ("trl", "multitask", "more", "more_trl")
SOURCES = ("shared", "verbose", "concise", "lists", "noisy", "edgy")


class StepClock:
    """Start time and padded tokens of each training forward pass of a reward model.

    A step starts when a module with ``num_labels == 1`` (the reward model) runs forward in
    training mode with gradients on; its padded tokens are the size of the input of the first
    ``nn.Embedding`` that runs after that (the word embedding: ``input_ids`` is passed to it
    positionally, while the model itself is called with keyword arguments).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.starts: list[float] = []
        self.tokens: list[int] = []
        self._pending = False
        self._handle: Any = None

    def _hook(self, module: torch.nn.Module, args: Any) -> None:
        if self._pending and isinstance(module, torch.nn.Embedding) and args:
            self.tokens.append(int(args[0].numel()))
            self._pending = False
        elif (
            getattr(module, "num_labels", None) == 1 and module.training and torch.is_grad_enabled()
        ):
            self.starts.append(self.clock())
            self._pending = True

    def __enter__(self) -> StepClock:
        self._handle = torch.nn.modules.module.register_module_forward_pre_hook(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.remove()

    def measured(self, warmup: int, steps: int) -> tuple[list[float], list[int]]:
        """Durations and padded tokens of ``steps`` steps after the first ``warmup`` ones."""
        ends = self.starts[warmup + 1 :]
        times = [b - a for a, b in zip(self.starts[warmup : warmup + len(ends)], ends, strict=True)]
        if len(times) < steps:
            raise RuntimeError(f"expected {steps} timed steps, got {len(times)}")
        return times[:steps], self.tokens[warmup : warmup + steps]


def _train_config(opts: argparse.Namespace, model: str, out: str, scheme: str) -> Any:
    from applications.reward_models.data.source_spec import SourceSpec
    from applications.reward_models.training.config import TrainConfig

    return TrainConfig(
        model=model,
        output_dir=out,
        sources=[SourceSpec(s) for s in SOURCES[: opts.sources]],
        train_pairs_per_source=opts.pairs_per_source * (opts.warmup + opts.steps + 2),
        test_pairs_per_source=0,
        pairs_per_source=opts.pairs_per_source,
        max_steps=opts.warmup + opts.steps + 1,
        learning_rate=1e-5,
        warmup_ratio=0.0,
        trainable_blocks=None,
        max_length=opts.max_length,
        scheme=scheme,
        progress_bar=False,
        logging_steps=1,
        seed=0,
    ).validate()


def _reward_config(opts: argparse.Namespace, out: str, k: int) -> Any:
    from applications.reward_models.integrations.trl import MoreRewardConfig

    return MoreRewardConfig(
        output_dir=out,
        per_device_train_batch_size=k * opts.pairs_per_source,
        max_steps=opts.warmup + opts.steps + 1,
        learning_rate=1e-5,
        warmup_steps=0,
        weight_decay=0.0,
        optim="adamw_torch",
        max_length=opts.max_length,
        bf16=False,
        gradient_checkpointing=False,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=0,
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def _runner(variant: str, opts: argparse.Namespace, model: str, data: Any) -> Callable[[str], Any]:
    """A function of an output directory that trains ``variant`` once."""
    from applications.reward_models.modeling.reward_model import load_reward_model

    if variant in ("multitask", "more"):
        from applications.reward_models.training.trainer import train_scheme

        return lambda out: train_scheme(_train_config(opts, model, out, variant), variant, data)

    from transformers import PrinterCallback
    from trl import RewardTrainer

    from applications.reward_models.integrations.trl import MoreRewardTrainer, pairs_to_dataset

    def run(out: str) -> Any:
        net, tokenizer = load_reward_model(model)
        ds = pairs_to_dataset(data.train, tokenizer, opts.max_length)
        args = _reward_config(opts, out, len(data.train))
        if variant == "trl":
            trainer = RewardTrainer(net, args, train_dataset=ds, processing_class=tokenizer)
        else:
            trainer = MoreRewardTrainer(net, args, train_dataset=ds, processing_class=tokenizer)
        trainer.remove_callback(PrinterCallback)  # keep the output to the table
        return trainer.train()

    return run


@dataclass(frozen=True)
class RunTiming:
    """One run: median step time (s) and time per 1 000 padded tokens (s) over its timed steps."""

    step: float
    per_kilotoken: float
    tokens: float


def _time_once(run: Callable[[str], Any], opts: argparse.Namespace) -> RunTiming:
    clock = time.process_time if opts.clock == "cpu" else time.perf_counter
    out = tempfile.mkdtemp(prefix="trl_bench_")
    try:
        with StepClock(clock) as steps:
            run(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    times, tokens = steps.measured(opts.warmup, opts.steps)
    return RunTiming(
        statistics.median(times), 1000 * sum(times) / sum(tokens), statistics.median(tokens)
    )


def _data(opts: argparse.Namespace, model: str) -> Any:
    from applications.reward_models.data.splits import load_source_data
    from applications.reward_models.modeling.reward_model import load_tokenizer

    config = _train_config(opts, model, tempfile.gettempdir(), "more")
    return load_source_data(config, load_tokenizer(model))


def _table(results: dict[str, list[RunTiming]], pairs: int) -> str:
    def med(name: str, field: str) -> float:
        return statistics.median(getattr(t, field) for t in results[name])

    lines = [
        "| variant | step (s) | pairs/s | ratio to (a) | padded tokens/step "
        "| s per 1k tokens | ratio to (a) per token |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in results:
        step, per_k = med(name, "step"), med(name, "per_kilotoken")
        ratio = f"{med('trl', 'step') / step:.3f}" if "trl" in results else "-"
        ratio_k = f"{med('trl', 'per_kilotoken') / per_k:.3f}" if "trl" in results else "-"
        lines.append(
            f"| {name} | {step:.4f} | {pairs / step:.1f} | {ratio} | {med(name, 'tokens'):.0f} "
            f"| {per_k:.4f} | {ratio_k} |"
        )
    return "\n".join(lines)


def _profile(run: Callable[[str], Any], opts: argparse.Namespace) -> None:
    out = tempfile.mkdtemp(prefix="trl_prof_")
    profiler = cProfile.Profile(time.process_time if opts.clock == "cpu" else time.perf_counter)
    try:
        profiler.runcall(run, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(opts.profile_lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the tiny test model instead of MiniLM")
    p.add_argument("--model", default="minilm", help="model name/path (ignored with --quick)")
    p.add_argument("--sources", type=int, default=5, help="K (at most 6)")
    p.add_argument("--pairs-per-source", type=int, default=4, help="m; a step holds K x m pairs")
    p.add_argument("--max-length", type=int, default=192)
    p.add_argument("--steps", type=int, default=5, help="timed steps per run")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    p.add_argument("--profile", choices=VARIANTS, help="cProfile one run of this variant")
    p.add_argument("--profile-lines", type=int, default=30)
    return p


def main(argv: list[str] | None = None) -> None:
    opts = _parser().parse_args(argv)
    torch.set_num_threads(opts.threads)
    warnings.filterwarnings("ignore")
    import datasets
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()
    hf_logging.set_verbosity_error()
    tmp = tempfile.mkdtemp(prefix="trl_bench_model_")
    model = opts.model
    if opts.quick:
        from applications.reward_models.testing import save_tiny_reward_model

        model = save_tiny_reward_model(os.path.join(tmp, "tiny"))
    data = _data(opts, model)
    variants = [v for v in opts.variants.split(",") if v]
    pairs = len(data.train) * opts.pairs_per_source
    if opts.profile:
        _profile(_runner(opts.profile, opts, model, data), opts)
        return
    results: dict[str, list[RunTiming]] = {v: [] for v in variants}
    for r in range(opts.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        for v in order:
            results[v].append(_time_once(_runner(v, opts, model, data), opts))
        print(f"round {r + 1}: " + ", ".join(f"{v}={results[v][-1].step:.4f}s" for v in variants))
    shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\nmodel={opts.model if not opts.quick else 'tiny'} K={len(data.train)} "
        f"m={opts.pairs_per_source} pairs/step={pairs} steps={opts.steps} (+{opts.warmup} warm-up) "
        f"rounds={opts.rounds} threads={opts.threads} clock={opts.clock}\n"
    )
    print(_table(results, pairs))


if __name__ == "__main__":
    main()
