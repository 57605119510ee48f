"""Benchmark of the weighting family against TorchJD 0.18, side by side in one run.

Run (the recorded table)::

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/weightings.py

For every method registered in ``mooptim.weightings.WEIGHTINGS`` that TorchJD also has (the
``TORCHJD`` table below; names not registered are skipped, so the script covers whatever the
registry holds), and every K:

* one problem: median time of one call, ours on the ``[K, K]`` Gramian vs TorchJD's weighting;
* a batch: ours on ``[N, K, K]`` in one call vs a Python loop of N TorchJD calls.

Ratios are TorchJD's time over ours (> 1: ours is faster): of the median rounds, and for one
problem also of the fastest rounds (the least disturbed by other processes on a shared machine).
Problems: K gradients
``g_i = s + z_i`` in ``R^{2K}`` with a shared component s and independent noise z_i (all
N(0, I)), i.e. positively correlated gradients as in multi-task training (as in
``benchmarks/solvers.py``), float64. Rounds alternate ours and TorchJD so that drifting load on a
shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torchjd import aggregation as tjd

import mooptim
from mooptim.weightings import WEIGHTINGS, weighting_from_name


@dataclass(frozen=True)
class Pair:
    """How to build TorchJD's twin of one of our methods for K objectives."""

    torchjd: Callable[[int], Callable[[torch.Tensor], torch.Tensor]]
    ours: dict[str, Any]  # our hyperparameters, set to TorchJD's values where it has no default
    takes_jacobian: bool = False  # TorchJD's weighting reads the Jacobian, not the Gramian


# The one name → TorchJD table (the CLI edge): our registry name, TorchJD's weighting.
TORCHJD: dict[str, Pair] = {
    "mean": Pair(lambda k: tjd.MeanWeighting(), {}),
    "mgda": Pair(lambda k: tjd.MGDAWeighting(), {}),
    "upgrad": Pair(lambda k: tjd.UPGradWeighting(), {}),
    "dualproj": Pair(lambda k: tjd.DualProjWeighting(), {}),
    "random": Pair(lambda k: tjd.RandomWeighting(), {}),
    "imtl_g": Pair(lambda k: tjd.IMTLGWeighting(), {}),
    "aligned_mtl": Pair(lambda k: tjd.AlignedMTLWeighting(), {}),
    "pcgrad": Pair(lambda k: tjd.PCGradWeighting(), {}),
    "cagrad": Pair(lambda k: tjd.CAGradWeighting(c=0.5), {"c": 0.5}),
    "fairgrad": Pair(lambda k: tjd.FairGradWeighting(alpha=1.0), {"alpha": 1.0}),
    "nash_mtl": Pair(lambda k: tjd.NashMTL(n_tasks=k).weighting, {}, takes_jacobian=True),
}


def make_jacobians(n: int, k: int, seed: int) -> torch.Tensor:
    """``[n, K, 2K]`` float64 Jacobians with a shared component (positively correlated rows)."""
    gen = torch.Generator().manual_seed(seed)
    shared = torch.randn(n, 1, 2 * k, generator=gen, dtype=torch.float64)
    return shared + torch.randn(n, k, 2 * k, generator=gen, dtype=torch.float64)


def round_seconds(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds of each zero-argument function in each of ``repeats`` interleaved rounds."""
    for fn in fns.values():
        fn()  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            fns[name]()
            samples[name].append(time.perf_counter() - t0)
    return samples


def compare(name: str, k: int, batch: int, repeats: int, calls: int) -> tuple[float, ...]:
    """Seconds for one method and K: ``(ours 1, TorchJD 1, best ratio 1, ours batch, TorchJD
    loop)``, medians over the rounds; the best ratio is that of the fastest rounds (the least
    disturbed by other processes on a shared machine)."""
    pair = TORCHJD[name]
    ours, theirs = weighting_from_name(name, **pair.ours), pair.torchjd(k)
    jac = make_jacobians(batch, k, seed=k)
    gram = jac @ jac.mT
    inputs = jac if pair.takes_jacobian else gram
    one, one_in = gram[0], inputs[0]

    def ours_one() -> None:
        for _ in range(calls):
            ours(one)

    def theirs_one() -> None:
        for _ in range(calls):
            theirs(one_in)

    def theirs_loop() -> None:
        for x in inputs:
            theirs(x)

    single = round_seconds({"ours": ours_one, "torchjd": theirs_one}, repeats)
    batched = round_seconds({"ours": lambda: ours(gram), "torchjd": theirs_loop}, repeats)
    ours_1, theirs_1 = (statistics.median(single[n]) / calls for n in ("ours", "torchjd"))
    best = min(single["torchjd"]) / min(single["ours"])
    ours_batch, theirs_loop_s = (statistics.median(batched[n]) for n in ("ours", "torchjd"))
    return ours_1, theirs_1, best, ours_batch, theirs_loop_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, nargs="+", default=[2, 5, 8, 16], help="objectives")
    parser.add_argument("--batch", type=int, default=1000, help="problems in the batched call")
    parser.add_argument("--repeats", type=int, default=10, help="rounds per measurement")
    parser.add_argument("--calls", type=int, default=20, help="calls per single-problem round")
    parser.add_argument("--methods", nargs="+", default=None, help="subset of the method names")
    parser.add_argument("--quick", action="store_true", help="K = 2, 8; batch 100; 2 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.k, args.batch, args.repeats, args.calls = [2, 8], 100, 2, 10
    names = [n for n in TORCHJD if n in WEIGHTINGS and (args.methods is None or n in args.methods)]
    skipped = sorted(set(TORCHJD) - set(WEIGHTINGS))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch = {args.batch}")
    print(f"mooptim from {mooptim.__file__} (run with PYTHONPATH=. to time a checkout)")
    if skipped:
        print(f"not registered (skipped): {', '.join(skipped)}")
    print(
        "| method | K | ours 1 (µs) | TorchJD 1 (µs) | ratio 1 | ratio 1, best rounds "
        "| ours batch (ms) | TorchJD loop (ms) | ratio batch |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        for k in args.k:
            o1, t1, best, ob, tb = compare(name, k, args.batch, args.repeats, args.calls)
            print(
                f"| {name} | {k} | {o1 * 1e6:.0f} | {t1 * 1e6:.0f} | {t1 / o1:.2f} | {best:.2f} "
                f"| {ob * 1e3:.1f} | {tb * 1e3:.1f} | {tb / ob:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
