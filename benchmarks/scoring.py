"""Benchmark: reward scoring throughput, length bucketing vs padding to ``max_length``.

Scores the same preference pairs with
:func:`applications.reward_models.modeling.scoring.score_pairs` under three padding
policies and prints pairs per second, the share of real (non-pad) tokens and the speed-up over
the pad-to-``max_length`` baseline measured in the same run:

* ``max_length`` — every sequence padded to ``max_length`` (baseline);
* ``longest`` — input-order batches padded to their longest sequence (dynamic padding only);
* ``bucket`` — sequences sorted by length, padded to a multiple of 8 (our default).

The length mix imitates multi-turn preference data (HH-RLHF-like): prompt and response word
counts drawn from log-normal distributions (median ≈ 60 and 45 words, long tail), truncated
by the shared policy (prompt cut from the left) at ``max_length`` tokens.

    python benchmarks/scoring.py                       # MiniLM, 256 pairs, max_length 512
    python benchmarks/scoring.py --pairs 512 --batch-size 32 --threads 2
"""

from __future__ import annotations

import argparse
import random
import time

import torch

from applications.reward_models.data.collate import encode_many, filter_overlength
from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.modeling.reward_model import load_reward_model
from applications.reward_models.modeling.scoring import score_pairs

WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "that",
    "is",
    "for",
    "it",
    "you",
    "with",
    "on",
    "as",
    "this",
    "be",
    "are",
    "have",
    "not",
    "can",
    "your",
    "answer",
    "question",
    "help",
    "explain",
    "because",
    "however",
    "would",
    "could",
    "should",
    "about",
    "people",
    "time",
    "make",
    "good",
    "example",
    "different",
    "important",
    "information",
    "process",
    "system",
    "water",
    "energy",
    "recipe",
    "travel",
    "budget",
    "garden",
    "history",
    "language",
    "computer",
    "program",
    "function",
    "value",
    "understand",
    "consider",
    "usually",
    "often",
    "several",
    "specific",
    "general",
    "possible",
    "available",
]


def realistic_pairs(n: int, seed: int = 0) -> list[PreferencePair]:
    """``n`` pairs with a long-tailed length mix (see the module doc)."""
    rng = random.Random(seed)

    def text(median_words: float, sigma: float) -> str:
        k = max(3, int(rng.lognormvariate(0.0, sigma) * median_words))
        return " ".join(rng.choice(WORDS) for _ in range(k))

    pairs = []
    for _ in range(n):
        turns = rng.choice([1, 1, 1, 2, 3])
        prompt = "".join(
            f"\n\nHuman: {text(25, 0.7)}\n\nAssistant: {text(30, 0.7)}" for _ in range(turns - 1)
        )
        prompt += f"\n\nHuman: {text(25, 0.8)}\n\nAssistant:"
        pairs.append(PreferencePair(prompt, text(45, 0.8), text(45, 0.8), "bench"))
    return pairs


def _timed_runs(model, tok, pairs, args) -> dict:
    """``{padding: (best seconds over the repeats, scores)}`` after one warm-up call."""
    score_pairs(model, tok, pairs[:4], batch_size=4, max_length=args.max_length, progress=False)
    results = {}
    for padding in ("max_length", "longest", "bucket"):
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            out = score_pairs(
                model,
                tok,
                pairs,
                batch_size=args.batch_size,
                max_length=args.max_length,
                padding=padding,
                progress=False,
            )
            best = min(best, time.perf_counter() - start)
        results[padding] = (best, out)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32, help="pairs per forward pass")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tok = load_reward_model(args.model)
    model.eval()
    drops = DropReport()
    pairs = filter_overlength(realistic_pairs(args.pairs), tok, args.max_length, drops)
    args.pairs = len(pairs)
    ids = encode_many(
        tok,
        [p.prompt for p in pairs] * 2,
        [p.chosen for p in pairs] + [p.rejected for p in pairs],
        args.max_length,
    )
    lengths = sorted(len(x) for x in ids if x is not None)
    n = len(lengths)
    print(
        f"model={args.model} pairs={args.pairs} batch={args.batch_size} pairs "
        f"max_length={args.max_length} threads={torch.get_num_threads()}\n"
        f"sequence tokens: median {lengths[n // 2]}, p90 {lengths[int(0.9 * n)]}, "
        f"max {lengths[-1]}; over-length pairs dropped: {drops.total}"
    )
    results = _timed_runs(model, tok, pairs, args)
    base_time, (base_c, base_r) = results["max_length"]
    real = sum(lengths)
    padded = {
        "max_length": 2 * args.pairs * args.max_length,
        "longest": None,
        "bucket": sum(-(-x // 8) * 8 for x in lengths),
    }
    print("\n| padding | seconds | pairs/s | real-token share | speed-up | max reward change |")
    print("| :-- | --: | --: | --: | --: | --: |")
    for padding, (secs, (c, r)) in results.items():
        share = f"{real / padded[padding]:.0%}" if padded[padding] else "–"
        diff = max(float((c - base_c).abs().max()), float((r - base_r).abs().max()))
        print(
            f"| {padding} | {secs:.1f} | {args.pairs / secs:.1f} | {share} | "
            f"{base_time / secs:.2f}× | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
