"""Step time of min-norm training steps vs a plain summed-loss step, on transformers (CPU).

Two configurations (``--model``):

- ``tiny``: token embedding (vocabulary 1000) → ``nn.TransformerEncoder`` (4 layers, d=256,
  4 heads, ff 1024, ReLU, no dropout) → mean pooling → ``Linear(256, 1)`` head; 3.42 M parameters.
  Batch: K parts × B samples × T tokens; each part's loss is the mean squared error of its samples.
- ``minilm``: a reward model with the geometry of MiniLM-L6 (``all-MiniLM-L6-v2``: BERT, 6 layers,
  hidden 384, 12 heads, feed-forward 1536, GELU, vocabulary 30522, post-norm, LayerNorm eps 1e-12),
  built from ``torch.nn`` with random weights (no download needed): word + position + token-type
  embeddings → LayerNorm → ``nn.TransformerEncoder`` → ``[CLS]`` → pooler (Linear + tanh) →
  ``Linear(384, 1)`` reward head; 22.71 M parameters. Batch: K parts × B preference *pairs* (2B
  sequences: chosen and rejected) × T tokens; each part's loss is the Bradley–Terry loss
  −log σ(r_chosen − r_rejected), averaged over its pairs.

One "step" is forward + backward (+ the weighting work), ending with every parameter's ``.grad``
filled; the optimizer update is left out (it is the same for every variant). Variants run
interleaved, round by round, so machine-load drift hits all of them alike; the table reports the
median over rounds and the ratio to (a) measured in the same run. By default the clock is the
process CPU time, which on a shared machine measures our work rather than the wait.

    python benchmarks/training_step.py [--model tiny] [--threads 1] [--repeats 7] [--warmup 2]
    python benchmarks/training_step.py --model minilm      # K=5 x 8 pairs x 64 tokens
    python benchmarks/training_step.py --model minilm --seq 32 64 128 --variants a,d,f,p
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mooptim.gradients import DisjointParts, GramAccumulation, SubspaceAutograd
from mooptim.normalizers import L2Normalization
from mooptim.solver import MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormWeighting


class TinyTransformer(nn.Module):
    def __init__(self, vocab: int = 1000, d: int = 256, layers: int = 4) -> None:
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)).mean(1)).squeeze(-1)


class MiniLMShaped(nn.Module):
    """A BERT-style sequence-classification reward model with MiniLM-L6's geometry."""

    def __init__(
        self,
        vocab: int = 30522,
        d: int = 384,
        layers: int = 6,
        heads: int = 12,
        ff: int = 1536,
        max_positions: int = 512,
    ) -> None:
        super().__init__()
        self.vocab = vocab
        self.word = nn.Embedding(vocab, d)
        self.position = nn.Embedding(max_positions, d)
        self.token_type = nn.Embedding(2, d)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        layer = nn.TransformerEncoderLayer(
            d, heads, ff, dropout=0.0, activation="gelu", batch_first=True, layer_norm_eps=1e-12
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.pooler = nn.Linear(d, d)
        self.head = nn.Linear(d, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        h = self.word(tokens) + self.position.weight[:t] + self.token_type.weight[0]
        h = self.encoder(self.norm(h))
        return self.head(torch.tanh(self.pooler(h[:, 0]))).squeeze(-1)


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((pred - target) ** 2).mean()


def bradley_terry_loss(rewards: torch.Tensor, _: torch.Tensor) -> torch.Tensor:
    """Rows [0, B) are the chosen responses, rows [B, 2B) the rejected ones."""
    chosen, rejected = rewards.chunk(2)
    return -F.logsigmoid(chosen - rejected).mean()


Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# key -> table label; the keys select variants with --variants
VARIANTS = {
    "a": "(a) plain summed loss",
    "b": "(b) head subspace, SubspaceAutograd",
    "c": "(c) last 2 blocks, SubspaceAutograd",
    "cd": "(c) last 2 blocks, DisjointParts (+ rest)",
    "da": "(d) full, SubspaceAutograd",
    "dg": "(d) full, GramAccumulation (1 block)",
    "dgb": "(d) full, GramAccumulation (2^20 blocks)",
    "d": "(d) full, DisjointParts",
    "f": "(f) K part backwards only, no weighting",
    "e": "(e) naive K full backward passes",
    "p": "    plain disjoint prototype",
}
DEFAULT_VARIANTS = {"tiny": ",".join(VARIANTS), "minilm": "a,b,d,f,e,p"}


def _reference_solve(solver: MinNormSolver) -> Callable[[torch.Tensor], torch.Tensor]:
    def solve(flat: torch.Tensor) -> torch.Tensor:
        # what a hand-written reference does: one float32 matmul for the Gram, then the solve.
        # (MinNormSolver.solve(flat) forms the Gram in float64: ~10x slower on these widths, it
        # would dominate the reference rows.)
        gram = (flat @ flat.T).double()
        return solver.solve_gram(0.5 * (gram + gram.T)).weights.to(flat.dtype)

    return solve


def _plain_steps(
    model: nn.Module,
    part_losses: Callable[[], list[torch.Tensor]],
    closures: list[Callable[[], torch.Tensor]],
) -> dict[str, Callable[[], None]]:
    """(a) the summed loss and (f) the K part backwards, both without a weighting."""

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        torch.stack(part_losses()).mean().backward()

    def parts_only() -> None:
        # the floor of DisjointParts: K part forward/backwards into .grad, no weighting at all
        model.zero_grad(set_to_none=True)
        for closure in closures:
            closure().backward()

    return {"a": plain, "f": parts_only}


def _hand_written_steps(
    model: nn.Module,
    part_losses: Callable[[], list[torch.Tensor]],
    closures: list[Callable[[], torch.Tensor]],
    solve: Callable[[torch.Tensor], torch.Tensor],
) -> dict[str, Callable[[], None]]:
    """(e) the naive K full backwards and (p) the plain disjoint prototype."""
    params = list(model.parameters())

    def naive() -> None:
        # the reference pattern: K full backward passes, clone every .grad, solve, backward again
        losses = part_losses()
        flat = []
        for loss in losses:
            model.zero_grad(set_to_none=True)
            loss.backward(retain_graph=True)
            flat.append(torch.cat([p.grad.reshape(-1).clone() for p in params]))
        lam = solve(torch.stack(flat))
        model.zero_grad(set_to_none=True)
        sum(w * loss for w, loss in zip(lam, losses, strict=True)).backward()

    def prototype_disjoint() -> None:
        # a plain version of the disjoint idea: per-part backward into .grad, clone, re-weight
        model.zero_grad(set_to_none=True)
        per_part = []
        for closure in closures:
            closure().backward()
            per_part.append([p.grad.clone() for p in params])
            model.zero_grad(set_to_none=True)
        flat = torch.stack([torch.cat([g.reshape(-1) for g in gs]) for gs in per_part])
        lam = solve(flat)
        for i, p in enumerate(params):
            p.grad = sum(lam[j] * per_part[j][i] for j in range(len(closures)))

    return {"e": naive, "p": prototype_disjoint}


def _weighting_makers(
    model: nn.Module,
    head: nn.Module,
    blocks: nn.ModuleList,
    part_losses: Callable[[], list[torch.Tensor]],
    closures: list[Callable[[], torch.Tensor]],
    solver: MinNormSolver,
) -> dict[str, Callable[[], Callable[[], None]]]:
    """The MinNormWeighting variants (b, c, cd, da, dg, dgb, d), each built only when selected."""
    params = list(model.parameters())
    norm = L2Normalization()

    def combined(weighting: MinNormWeighting) -> Callable[[], None]:
        def step() -> None:
            model.zero_grad(set_to_none=True)
            weighting.combine(part_losses()).loss.backward()

        return step

    def disjoint(weighting: MinNormWeighting) -> Callable[[], None]:
        def step() -> None:
            model.zero_grad(set_to_none=True)
            weighting.backward_parts(closures, params=params)

        return step

    full = Subspace.all(model)
    head_sub = Subspace.from_module(head)
    last2 = Subspace.last_blocks(model, blocks, 2)

    def mk(sub: Subspace, strategy: object = None) -> MinNormWeighting:
        return MinNormWeighting(sub, solver, norm, strategy=strategy)

    return {
        "b": lambda: combined(mk(head_sub)),
        "c": lambda: combined(mk(last2)),
        "cd": lambda: disjoint(mk(last2, DisjointParts())),
        "da": lambda: combined(mk(full, SubspaceAutograd())),
        "dg": lambda: combined(mk(full, GramAccumulation())),
        "dgb": lambda: combined(mk(full, GramAccumulation(block_numel=2**20))),
        "d": lambda: disjoint(mk(full, DisjointParts())),
    }


def build_steps(
    model: nn.Module,
    head: nn.Module,
    blocks: nn.ModuleList,
    tokens: list[torch.Tensor],
    targets: list[torch.Tensor],
    loss_fn: Loss,
    keys: list[str],
) -> dict[str, Callable[[], None]]:
    """The selected variants' training steps (``keys`` of :data:`VARIANTS`), by table label."""
    all_tokens = torch.cat(tokens)
    sizes = [t.shape[0] for t in tokens]
    solver = MinNormSolver()

    def part_losses() -> list[torch.Tensor]:
        pred = model(all_tokens).split(sizes)
        return [loss_fn(p, t) for p, t in zip(pred, targets, strict=True)]

    closures = [lambda x=x, y=y: loss_fn(model(x), y) for x, y in zip(tokens, targets, strict=True)]
    built = _plain_steps(model, part_losses, closures)
    built |= _hand_written_steps(model, part_losses, closures, _reference_solve(solver))
    makers = _weighting_makers(model, head, blocks, part_losses, closures, solver)
    return {VARIANTS[key]: built[key] if key in built else makers[key]() for key in keys}


def make_batch(
    model_kind: str, vocab: int, parts: int, per_part: int, seq: int, gen: torch.Generator
) -> tuple[list[torch.Tensor], list[torch.Tensor], Loss]:
    if model_kind == "tiny":
        tokens = [torch.randint(0, vocab, (per_part, seq), generator=gen) for _ in range(parts)]
        targets = [torch.randn(per_part, generator=gen) + i for i in range(parts)]
        return tokens, targets, mse_loss
    # per_part pairs: 2 * per_part sequences per part, chosen first
    tokens = [torch.randint(0, vocab, (2 * per_part, seq), generator=gen) for _ in range(parts)]
    return tokens, [torch.empty(0) for _ in range(parts)], bradley_terry_loss


def run(args: argparse.Namespace, seq: int, keys: list[str]) -> None:
    torch.manual_seed(0)
    model: TinyTransformer | MiniLMShaped = (
        TinyTransformer() if args.model == "tiny" else MiniLMShaped()
    )
    gen = torch.Generator().manual_seed(1)
    tokens, targets, loss_fn = make_batch(
        args.model, model.vocab, args.parts, args.per_part, seq, gen
    )
    steps = build_steps(model, model.head, model.encoder.layers, tokens, targets, loss_fn, keys)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(args.warmup + args.repeats):
        for name, step in steps.items():
            start = clock()
            step()
            if r >= args.warmup:
                times[name].append(clock() - start)
    n_params = sum(p.numel() for p in model.parameters())
    unit = "samples" if args.model == "tiny" else "pairs"
    print(
        f"{type(model).__name__} ({n_params / 1e6:.2f}M params), K={args.parts} parts x "
        f"{args.per_part} {unit} x {seq} tokens ({tokens[0].numel()} tokens per part), "
        f"{args.threads} thread(s), {args.clock} clock, median of {args.repeats} "
        f"(warmup {args.warmup}), torch {torch.__version__}"
    )
    base = statistics.median(times[VARIANTS["a"]])
    print(f"| {'variant':<42} | {'ms/step':>8} | {'ratio to (a)':>12} |")
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 14}|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name:<42} | {med * 1e3:8.1f} | {med / base:11.2f}x |")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model",
        choices=["tiny", "minilm"],
        default="tiny",
        help="tiny: 3.4M-parameter encoder, MSE per part; minilm: MiniLM-L6-shaped reward model, "
        "Bradley-Terry loss per part",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=None, help="default: tiny 7, minilm 5")
    parser.add_argument("--warmup", type=int, default=None, help="default: tiny 2, minilm 1")
    parser.add_argument("--parts", type=int, default=5, help="K objectives (parts of the batch)")
    parser.add_argument(
        "--per-part",
        type=int,
        default=8,
        help="samples (tiny) or preference pairs (minilm) per part",
    )
    parser.add_argument(
        "--seq",
        type=int,
        nargs="+",
        default=None,
        help="tokens per sequence; several values give one table each (default: tiny 16, "
        "minilm 64)",
    )
    parser.add_argument(
        "--variants",
        default=None,
        help="comma-separated keys, (a) always included: "
        + ", ".join(f"{k}={v.strip()}" for k, v in VARIANTS.items())
        + f" (default: tiny all, minilm {DEFAULT_VARIANTS['minilm']})",
    )
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: process CPU time (robust on a shared, loaded machine); wall: perf_counter",
    )
    args = parser.parse_args()
    tiny = args.model == "tiny"
    args.repeats = args.repeats if args.repeats is not None else (7 if tiny else 5)
    args.warmup = args.warmup if args.warmup is not None else (2 if tiny else 1)
    seqs = args.seq if args.seq is not None else [16 if tiny else 64]
    keys = (args.variants or DEFAULT_VARIANTS[args.model]).split(",")
    unknown = sorted(set(keys) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    keys = ["a", *[key for key in VARIANTS if key in keys and key != "a"]]
    torch.set_num_threads(args.threads)
    for seq in seqs:
        run(args, seq, keys)


if __name__ == "__main__":
    main()
