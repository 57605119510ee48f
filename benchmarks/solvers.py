"""Benchmark of the min-norm solvers: time per call, batched throughput, accuracy vs cvxpy.

Run (single-threaded, as in the recorded table)::

    OMP_NUM_THREADS=1 python benchmarks/solvers.py

Problems: K objective vectors ``g_i = u + z_i`` in ``R^{2K}`` with a shared component u and
independent noise z_i (all N(0, I)), i.e. positively correlated gradients as in multi-task
training. Every method solves the same problems; cvxpy (Clarabel, tight tolerances, the problem
compiled once per K) is the baseline of the speed-up and of the objective gap.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

import mooptim._host as host_module
from mooptim import MinNormSolver

try:
    import qpsolvers
except ImportError:  # optional: the table just leaves the column out
    qpsolvers = None


def make_problems(n: int, k: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    d = 2 * k
    jac = torch.randn(n, 1, d, generator=gen, dtype=torch.float64)
    jac = jac + torch.randn(n, k, d, generator=gen, dtype=torch.float64)
    return jac @ jac.mT


def time_consecutive(
    fns: dict[str, Callable[[torch.Tensor], object]], grams: torch.Tensor, repeats: int
) -> dict[str, float]:
    """Median milliseconds per call when each function solves all problems in a row.

    The usual per-call measure (as ``timeit`` gives): the method's code and data stay in the
    caches between its calls. Rounds alternate the methods (in a rotating order), so load drift on
    a shared machine hits all of them alike and the ratios stay meaningful.
    """
    names = list(fns)
    for fn in fns.values():
        fn(grams[0])  # warm-up (cvxpy compiles its problem here)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            fn = fns[name]
            for g in grams:
                t0 = time.perf_counter()
                fn(g)
                samples[name].append(time.perf_counter() - t0)
    return {name: 1e3 * statistics.median(s) for name, s in samples.items()}


def time_after_other_work(
    fns: dict[str, Callable[[torch.Tensor], object]], grams: torch.Tensor, repeats: int
) -> dict[str, float]:
    """Median milliseconds of one call made right after the other methods' calls.

    The functions are interleaved problem by problem, so each call starts with caches that the
    other methods' calls have evicted (the Frank-Wolfe loop alone runs thousands of kernels), as a
    solve inside a training step does. Every method pays more here; the fixed cost of touching
    cold code weighs most on the cheapest calls.
    """
    for fn in fns.values():
        fn(grams[0])
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for g in grams:
            for name, fn in fns.items():
                t0 = time.perf_counter()
                fn(g)
                samples[name].append(time.perf_counter() - t0)
    return {name: 1e3 * statistics.median(s) for name, s in samples.items()}


def quadprog_solve(gram: torch.Tensor) -> np.ndarray:
    g = gram.numpy()
    k = g.shape[0]
    # quadprog needs a positive definite matrix: a 1e-12·max G_ii ridge.
    p = g + 1e-12 * np.abs(np.diag(g)).max() * np.eye(k)
    return qpsolvers.solve_qp(
        p, np.zeros(k), A=np.ones((1, k)), b=np.ones(1), lb=np.zeros(k), solver="quadprog"
    )


def objective(gram: torch.Tensor, lam: torch.Tensor) -> float:
    return float(lam @ gram @ lam)


def _with_small_k(small_k: float) -> Callable[[torch.Tensor], object]:
    solver = MinNormSolver()

    def call(gram: torch.Tensor) -> object:
        old = host_module.SMALL_K
        host_module.SMALL_K = small_k
        try:
            return solver.solve_gram(gram)
        finally:
            host_module.SMALL_K = old

    return call


def compare_paths(args: argparse.Namespace) -> None:
    """One CPU problem of the exact method on each implementation: plain floats, numpy, torch."""
    solver = MinNormSolver()
    fns: dict[str, Callable[[torch.Tensor], object]] = {
        "plain floats": _with_small_k(float("inf")),
        "numpy": _with_small_k(0),
        "torch (batch of 1)": lambda g: solver.solve_gram(g.unsqueeze(0)),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for title, timer in (("warm", time_consecutive), ("cold", time_after_other_work)):
        print()
        print(f"One CPU problem, exact method, caches {title}: ms per call (median)")
        print()
        print("| K | " + " | ".join(f"{c} ms" for c in fns) + " |")
        print("|" + "---|" * (len(fns) + 1))
        for k in args.ks:
            ms = timer(fns, make_problems(args.problems, k, args.seed + k), args.repeats)
            print(f"| {k} | " + " | ".join(f"{ms[c]:.3f}" for c in fns) + " |")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=20, help="problems per K")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--paths", action="store_true", help="only compare the single-problem implementations"
    )
    parser.add_argument("--ks", type=int, nargs="+", default=[2, 5, 8, 12, 16, 24, 32, 64])
    return parser.parse_args()


def _table_row(k: int, ms: dict[str, float], cols: list[str]) -> list[str]:
    """K, each column's ms and the exact method's speed-up over cvxpy."""
    return [str(k), *[f"{ms[c]:.3f}" for c in cols], f"{ms['cvxpy'] / ms['exact']:.1f}×"]


def _accuracy_cells(solvers: dict[str, MinNormSolver], grams: list[torch.Tensor]) -> list[str]:
    """Max relative gap of exact vs cvxpy, and the mean FW / PG iteration counts."""
    gaps, iters_fw, iters_pg = [], [], []
    for g in grams:
        f_ex = float(solvers["exact"].solve_gram(g).min_norm_sq)
        f_cv = float(solvers["cvxpy"].solve_gram(g).min_norm_sq)
        # Relative to f (floor 1e-12·max G_ii when the min norm is ~0).
        floor = 1e-12 * float(g.diagonal().max())
        gaps.append(abs(f_ex - f_cv) / max(f_cv, floor))
        iters_fw.append(int(solvers["frank_wolfe"].solve_gram(g).iterations))
        iters_pg.append(int(solvers["projected_gradient"].solve_gram(g).iterations))
    return [f"{max(gaps):.1e}", f"{np.mean(iters_fw):.0f} / {np.mean(iters_pg):.0f}"]


def _warm_table(
    args: argparse.Namespace, solvers: dict[str, MinNormSolver], cols: list[str]
) -> dict[int, dict[str, float]]:
    """Print the warm-cache table; return the cold-cache timings measured on the same problems."""
    print("Per call, consecutive calls of one method (caches warm): ms per call (median)")
    print()
    header = ["K", *[f"{c} ms" for c in cols], "exact speed-up vs cvxpy", "max rel. gap exact"]
    header += ["FW/PG iters (mean)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    cold: dict[int, dict[str, float]] = {}
    for k in (2, 5, 16, 64):
        grams = make_problems(args.problems, k, args.seed + k)
        fns: dict[str, Callable[[torch.Tensor], object]] = {
            name: solver.solve_gram for name, solver in solvers.items()
        }
        if "quadprog" in cols:
            fns["quadprog"] = quadprog_solve
        ms = time_consecutive(fns, grams, args.repeats)
        row = _table_row(k, ms, cols) + _accuracy_cells(solvers, grams)
        print("| " + " | ".join(row) + " |")
        cold[k] = time_after_other_work(fns, grams, args.repeats)
    return cold


def _cold_table(cold: dict[int, dict[str, float]], cols: list[str]) -> None:
    print("Per call, right after the other methods' calls (caches cold): ms per call (median)")
    print()
    print("| " + " | ".join(["K", *[f"{c} ms" for c in cols], "exact speed-up vs cvxpy"]) + " |")
    print("|" + "---|" * (len(cols) + 2))
    for k, ms in cold.items():
        print("| " + " | ".join(_table_row(k, ms, cols)) + " |")


def _batched_calls(grams: torch.Tensor, vectors: torch.Tensor) -> dict[str, Callable[[], object]]:
    """One call per batched variant: the solvers on ``grams``, and ``solve`` on ``vectors``."""
    solvers = {
        "exact": MinNormSolver("exact"),
        "exact, check_input=False": MinNormSolver("exact", check_input=False),
    }
    calls: dict[str, Callable[[], object]] = {
        name: (lambda solver=solver: solver.solve_gram(grams)) for name, solver in solvers.items()
    }
    solver_v = MinNormSolver("exact")
    calls["exact via solve(vectors)"] = lambda: solver_v.solve(vectors)
    for name, solver in {
        "frank_wolfe (tol 1e-6, max_iter 1000)": MinNormSolver("frank_wolfe"),
        "projected_gradient (tol 1e-6)": MinNormSolver("projected_gradient"),
    }.items():
        calls[name] = lambda solver=solver: solver.solve_gram(grams)
    return calls


def _batched_table(args: argparse.Namespace, solvers: dict[str, MinNormSolver]) -> None:
    b, k = args.batch, 5
    grams = make_problems(b, k, args.seed)
    print(f"Batched: B = {b} problems, K = {k}, one call (median of {args.repeats + 2})")
    print()
    print("| method | ms per batch | µs per problem | max iterations |")
    print("|---|---|---|---|")
    gen = torch.Generator().manual_seed(args.seed)
    vectors = torch.randn(b, 1, 2 * k, generator=gen) + torch.randn(b, k, 2 * k, generator=gen)
    for name, call in _batched_calls(grams, vectors).items():
        res = call()
        samples = []
        for _ in range(args.repeats + 2):
            t0 = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t0)
        t = 1e3 * statistics.median(samples)
        print(f"| {name} | {t:.1f} | {1e3 * t / b:.2f} | {int(res.iterations.max())} |")
    exact = solvers["exact"].solve_gram(grams[:200])
    ref = torch.stack([solvers["cvxpy"].solve_gram(g).min_norm_sq for g in grams[:200]])
    rel = ((exact.min_norm_sq - ref).abs() / ref.clamp_min(1e-300)).max()
    print()
    print(f"Batched exact vs cvxpy on the first 200 problems: max relative gap {float(rel):.1e}")


def main() -> None:
    args = _parse_args()
    torch.set_num_threads(1)
    if args.paths:
        compare_paths(args)
        return
    solvers = {
        "exact": MinNormSolver("exact"),
        "frank_wolfe": MinNormSolver("frank_wolfe"),
        "projected_gradient": MinNormSolver("projected_gradient"),
        "cvxpy": MinNormSolver("cvxpy"),
    }
    have_qp = qpsolvers is not None and "quadprog" in qpsolvers.available_solvers
    cols = [*solvers, "quadprog"] if have_qp else list(solvers)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print()
    cold = _warm_table(args, solvers, cols)
    print()
    _cold_table(cold, cols)
    print()
    _batched_table(args, solvers)


if __name__ == "__main__":
    main()
