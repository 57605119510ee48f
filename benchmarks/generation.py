"""Benchmark: batched generation vs one sequence at a time (the RJS sample stage's hot loop).

Runs the same rows (prompt × sample, same per-row seeds, so the same tokens are generated) with
``batch_size = 1`` (the baseline, one ``generate`` call per row) and with larger left-padded
batches, and prints generated tokens per second and the speed-up over the baseline measured in the
same run.

    python benchmarks/generation.py          # SmolLM2-135M-Instruct (GGUF), 8 prompts × 4 samples
    python benchmarks/generation.py --prompts 16 --n 4 --max-new-tokens 64 --batch-sizes 1 8 32 64
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
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--n", type=int, default=4, help="samples per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tok = load_policy(args.policy)
    model.eval()
    prompts = PreferenceSimulator(seed=0).prompts(args.prompts, split="train")
    rows = [p for p in prompts for _ in range(args.n)]
    seeds = [row_seed(0, p, j) for p in prompts for j in range(args.n)]
    order = sorted(range(len(rows)), key=lambda i: len(encode_prompt(tok, rows[i])))
    rows, seeds = [rows[i] for i in order], [seeds[i] for i in order]
    # Warm-up (first-call allocations and lazy init are not what we measure).
    generate(model, tok, rows[:2], seeds[:2], GenerationConfig(max_new_tokens=4, batch_size=2))

    print(
        f"policy={args.policy} rows={len(rows)} ({args.prompts} prompts × n={args.n}) "
        f"max_new_tokens={args.max_new_tokens} torch_threads={torch.get_num_threads()} "
        f"cpus={os.cpu_count()} device={next(model.parameters()).device}"
    )
    print("| batch size | seconds | generated tokens | tokens/s | speed-up | same responses |")
    print("|---:|---:|---:|---:|---:|---:|")
    base_rate = None
    reference = None
    for bs in args.batch_sizes:
        cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=bs)
        seconds, tokens, gens = run(model, tok, rows, seeds, cfg)
        rate = tokens / seconds
        base_rate = base_rate or rate
        reference = reference or gens
        # Left padding perturbs logits by float rounding, which can flip a sampled token.
        same = sum(a == b for a, b in zip(gens, reference, strict=True)) / len(gens)
        speedup = rate / base_rate
        print(f"| {bs} | {seconds:.2f} | {tokens} | {rate:.1f} | {speedup:.2f}× | {same:.0%} |")


if __name__ == "__main__":
    main()
