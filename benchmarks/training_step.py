"""Step time of min-norm training steps vs a plain summed-loss step, on a small transformer (CPU).

Model: token embedding → ``nn.TransformerEncoder`` (4 layers, d=256, 4 heads, ff 1024, no dropout)
→ mean pooling → ``Linear(256, 1)`` head. Batch: K parts (objectives) × B samples × T tokens; each
part's loss is the mean squared error of its own samples. One "step" is forward + backward (+ the
weighting work), ending with every parameter's ``.grad`` filled; the optimizer update is left out
(it is the same for every variant). Variants run interleaved, round by round, so machine-load drift
hits all of them alike; the table reports the median over rounds and the ratio to (a). By default
the clock is the process CPU time, which on a shared machine measures our work rather than the wait.

    python benchmarks/training_step.py [--threads 1] [--repeats 7] [--warmup 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from mooptim.gradients import DisjointParts, GramAccumulation, SubspaceAutograd
from mooptim.normalizers import L2Normalization
from mooptim.solver import MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormWeighting


class TinyTransformer(nn.Module):
    def __init__(self, vocab: int = 1000, d: int = 256, layers: int = 4) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)).mean(1)).squeeze(-1)


def build_steps(
    model: TinyTransformer, tokens: list[torch.Tensor], targets: list[torch.Tensor]
) -> dict[str, Callable[[], None]]:
    k = len(tokens)
    all_tokens, all_targets = torch.cat(tokens), torch.cat(targets)
    sizes = [t.shape[0] for t in tokens]
    params = list(model.parameters())
    solver, norm = MinNormSolver(), L2Normalization()

    def part_losses() -> list[torch.Tensor]:
        pred = model(all_tokens).split(sizes)
        tgt = all_targets.split(sizes)
        return [((p - t) ** 2).mean() for p, t in zip(pred, tgt, strict=True)]

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        torch.stack(part_losses()).mean().backward()

    def combined(weighting: MinNormWeighting) -> Callable[[], None]:
        def step() -> None:
            model.zero_grad(set_to_none=True)
            weighting.combine(part_losses()).loss.backward()

        return step

    def disjoint(weighting: MinNormWeighting) -> Callable[[], None]:
        closures = [
            lambda x=x, y=y: ((model(x) - y) ** 2).mean()
            for x, y in zip(tokens, targets, strict=True)
        ]

        def step() -> None:
            model.zero_grad(set_to_none=True)
            weighting.backward_parts(closures, params=params)

        return step

    def parts_only() -> None:
        # the floor of DisjointParts: K part forward/backwards into .grad, no weighting at all
        model.zero_grad(set_to_none=True)
        for x, y in zip(tokens, targets, strict=True):
            ((model(x) - y) ** 2).mean().backward()

    def naive() -> None:
        # the reference pattern: K full backward passes, clone every .grad, solve, backward again
        losses = part_losses()
        flat = []
        for loss in losses:
            model.zero_grad(set_to_none=True)
            loss.backward(retain_graph=True)
            flat.append(torch.cat([p.grad.reshape(-1).clone() for p in params]))
        lam = solver.solve(torch.stack(flat)).weights
        model.zero_grad(set_to_none=True)
        sum(w * loss for w, loss in zip(lam, losses, strict=True)).backward()

    def prototype_disjoint() -> None:
        # a plain version of the disjoint idea: per-part backward into .grad, clone, re-weight
        model.zero_grad(set_to_none=True)
        per_part = []
        for x, y in zip(tokens, targets, strict=True):
            ((model(x) - y) ** 2).mean().backward()
            per_part.append([p.grad.clone() for p in params])
            model.zero_grad(set_to_none=True)
        flat = torch.stack([torch.cat([g.reshape(-1) for g in gs]) for gs in per_part])
        lam = solver.solve(flat).weights
        for i, p in enumerate(params):
            p.grad = sum(lam[j] * per_part[j][i] for j in range(k))

    full = Subspace.all(model)
    head = Subspace.from_module(model.head)
    last2 = Subspace.last_blocks(model, model.encoder.layers, 2)

    def mk(sub: Subspace, strategy: object = None) -> MinNormWeighting:
        return MinNormWeighting(sub, solver, norm, strategy=strategy)

    return {
        "(a) plain summed loss": plain,
        "(b) head subspace, SubspaceAutograd": combined(mk(head)),
        "(c) last 2 blocks, SubspaceAutograd": combined(mk(last2)),
        "(c) last 2 blocks, DisjointParts (+ rest)": disjoint(mk(last2, DisjointParts())),
        "(d) full, SubspaceAutograd": combined(mk(full, SubspaceAutograd())),
        "(d) full, GramAccumulation (1 block)": combined(mk(full, GramAccumulation())),
        "(d) full, GramAccumulation (2^20 blocks)": combined(
            mk(full, GramAccumulation(block_numel=2**20))
        ),
        "(d) full, DisjointParts": disjoint(mk(full, DisjointParts())),
        "(f) K part backwards only, no weighting": parts_only,
        "(e) naive K full backward passes": naive,
        "    plain disjoint prototype": prototype_disjoint,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--parts", type=int, default=5, help="K objectives (parts of the batch)")
    parser.add_argument("--per-part", type=int, default=8, help="samples per part")
    parser.add_argument("--seq", type=int, default=16, help="tokens per sample")
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: process CPU time (robust on a shared, loaded machine); wall: perf_counter",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = TinyTransformer()
    gen = torch.Generator().manual_seed(1)
    tokens = [
        torch.randint(0, 1000, (args.per_part, args.seq), generator=gen) for _ in range(args.parts)
    ]
    targets = [torch.randn(args.per_part, generator=gen) + i for i in range(args.parts)]
    steps = build_steps(model, tokens, targets)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(args.warmup + args.repeats):
        for name, step in steps.items():
            start = clock()
            step()
            if r >= args.warmup:
                times[name].append(clock() - start)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"TinyTransformer ({n_params / 1e6:.2f}M params), K={args.parts} parts x {args.per_part} "
        f"samples x {args.seq} tokens, {args.threads} thread(s), {args.clock} clock, "
        f"median of {args.repeats} "
        f"(warmup {args.warmup}), torch {torch.__version__}"
    )
    base = statistics.median(times["(a) plain summed loss"])
    print(f"| {'variant':<42} | {'ms/step':>8} | {'ratio to (a)':>12} |")
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 14}|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name:<42} | {med * 1e3:8.1f} | {med / base:11.2f}x |")


if __name__ == "__main__":
    main()
