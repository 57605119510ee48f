"""Benchmark: batched generation vs one sequence at a time (the RJS sample stage's hot loop).

The rows are ``--prompts`` simulator prompts × ``--n`` samples with their RJS row seeds, sorted by
prompt length as the sample stage does. The baseline generates ``--baseline-rows`` of them (spread
evenly over the length order) one ``generate`` call per row; every other batch size generates all
rows in left-padded batches. Tokens per second (generated tokens, EOS included) are compared with
the baseline measured in the same run. The "same responses" column is the fraction of the baseline
rows whose response is identical in the batched run (left padding perturbs logits by float
rounding, which can flip a sampled token).

    python benchmarks/generation.py
    python benchmarks/generation.py --prompts 16 --n 4 --max-new-tokens 64 --batch-sizes 1 16 64
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

# Runnable as a script from anywhere: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.rjs.generation import GenerationConfig, generate, row_seed
from applications.reward_models.rjs.policy import encode_prompt, load_policy


def run(model, tokenizer, prompts, seeds, cfg) -> tuple[float, int, list]:
    start = time.perf_counter()
    gens = generate(model, tokenizer, prompts, seeds, cfg)
    return time.perf_counter() - start, sum(g.num_tokens for g in gens), gens


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="smollm2")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--n", type=int, default=4, help="samples per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--baseline-rows", type=int, default=8)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model, tok = load_policy(args.policy)
    model.eval()
    load_seconds = time.perf_counter() - start
    prompts = PreferenceSimulator(seed=0).prompts(args.prompts, split="train")
    rows = [p for p in prompts for _ in range(args.n)]
    seeds = [row_seed(0, p, j) for p in prompts for j in range(args.n)]
    order = sorted(range(len(rows)), key=lambda i: len(encode_prompt(tok, rows[i])))
    rows, seeds = [rows[i] for i in order], [seeds[i] for i in order]
    step = max(1, len(rows) // args.baseline_rows)
    base_idx = list(range(0, len(rows), step))[: args.baseline_rows]
    # Warm-up (first-call allocations and lazy init are not what we measure).
    generate(model, tok, rows[:2], seeds[:2], GenerationConfig(max_new_tokens=4, batch_size=2))

    print(
        f"policy={args.policy} (loaded in {load_seconds:.0f}s) rows={len(rows)} "
        f"({args.prompts} prompts × n={args.n}) max_new_tokens={args.max_new_tokens} "
        f"torch_threads={torch.get_num_threads()} cpus={os.cpu_count()} "
        f"device={next(model.parameters()).device}"
    )
    print(
        "| batch size | rows | seconds | generated tokens | tokens/s | speed-up | same responses |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=1)
    seconds, tokens, reference = run(
        model, tok, [rows[i] for i in base_idx], [seeds[i] for i in base_idx], cfg
    )
    base_rate = tokens / seconds
    print(f"| 1 | {len(base_idx)} | {seconds:.2f} | {tokens} | {base_rate:.1f} | 1.00× | — |")
    for bs in args.batch_sizes:
        cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=bs)
        seconds, tokens, gens = run(model, tok, rows, seeds, cfg)
        rate = tokens / seconds
        same = sum(gens[i] == r for i, r in zip(base_idx, reference, strict=True)) / len(base_idx)
        print(
            f"| {bs} | {len(rows)} | {seconds:.2f} | {tokens} | {rate:.1f} | "
            f"{rate / base_rate:.2f}× | {same:.0%} |"
        )


if __name__ == "__main__":
    main()
