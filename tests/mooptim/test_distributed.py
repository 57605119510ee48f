"""Two CPU processes on gloo: identical λ on every rank and identical parameters after steps."""

from __future__ import annotations

import faulthandler
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mooptim.gradients import GramAccumulation
from mooptim.normalizers import L2Normalization
from mooptim.solver import MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormWeighting

K = 3
WORLD = 2


def _model() -> nn.Module:
    torch.manual_seed(0)  # same initial parameters on every rank
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))


def _parts(rank: int, step: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1000 * rank + step)  # different data on each rank
    parts = []
    for i in range(K):
        x = torch.randn(6, 5, generator=gen)
        parts.append((x, x[:, i : i + 1] * (-1) ** i))
    return parts


def _min_norm_of_the_rank_average(head: Subspace, losses: list[torch.Tensor]) -> torch.Tensor:
    """The reference λ: min-norm weights of the L2-normalised rank-averaged head gradients."""
    local = torch.stack(
        [head.flatten(torch.autograd.grad(l, head.params, retain_graph=True)) for l in losses]
    )
    gathered = [torch.zeros_like(local) for _ in range(WORLD)]
    dist.all_gather(gathered, local)
    mean = torch.stack(gathered).mean(0)
    scales = mean.norm(dim=1)
    return MinNormSolver().solve(mean / scales[:, None]).weights


def _combine_steps(
    rank: int, model: nn.Module, ddp: nn.Module, opt: torch.optim.Optimizer, record: dict
) -> None:
    """Four DDP steps of ``combine`` on the head (EMA on); objective 2 absent on rank 1, step 2."""
    head = Subspace.from_module(model[2])
    weighting = MinNormWeighting(head, MinNormSolver(), L2Normalization(), ema_alpha=0.7)
    for step in range(4):
        parts = _parts(rank, step)
        opt.zero_grad()
        x = torch.cat([p[0] for p in parts])
        pred = ddp(x).split(6)  # one DDP forward, per-part losses
        losses: list[torch.Tensor | None] = [
            ((pr - y) ** 2).mean() for pr, (_, y) in zip(pred, parts, strict=True)
        ]
        if step == 0:
            record["check"].append(_min_norm_of_the_rank_average(head, losses))
        if step == 2 and rank == 1:
            losses[2] = None  # objective 2 absent from this rank's batch
        out = weighting.combine(losses)
        out.loss.backward()
        opt.step()
        record["combine"].append(out.weights)


def _gram_accumulation_steps(
    rank: int, model: nn.Module, ddp: nn.Module, opt, record: dict
) -> None:
    """Gram accumulation: each [K, block] block is averaged before it enters the Gram."""
    blocks = MinNormWeighting(
        Subspace.all(model), MinNormSolver(), strategy=GramAccumulation(block_numel=16)
    )
    whole = MinNormWeighting(Subspace.all(model), MinNormSolver())
    record["gram"], record["gram_ref"] = [], []
    for step in range(2):
        parts = _parts(rank, 20 + step)
        opt.zero_grad()
        pred = ddp(torch.cat([p[0] for p in parts])).split(6)
        losses = [((pr - y) ** 2).mean() for pr, (_, y) in zip(pred, parts, strict=True)]
        record["gram_ref"].append(whole.combine(losses).weights)
        out = blocks.combine(losses)
        out.loss.backward()
        opt.step()
        record["gram"].append(out.weights)


def _disjoint_parts_steps(
    rank: int, model: nn.Module, opt: torch.optim.Optimizer, record: dict
) -> None:
    """Disjoint parts on the unwrapped module: the part gradients are averaged by the weighting."""
    full = MinNormWeighting(Subspace.all(model), MinNormSolver(), L2Normalization(), broadcast=True)
    for step in range(3):
        parts = _parts(rank, 10 + step)
        opt.zero_grad()
        closures = [lambda x=x, y=y: ((model(x) - y) ** 2).mean() for x, y in parts]
        if rank == 0 and step == 1:
            closures[0] = lambda: None
        out = full.backward_parts(closures)
        opt.step()
        record["parts"].append(out.weights)


def _worker(rank: int, port: int, out_dir: str) -> None:
    # A rank stuck for minutes (seen once in ~10 runs on the shared machine, cause not found) dumps
    # its stack and exits non-zero, so the test fails with a trace instead of hanging the suite.
    faulthandler.dump_traceback_later(120, exit=True)
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD
    )
    try:
        model = _model()
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        record: dict[str, list] = {"combine": [], "parts": [], "check": []}
        _combine_steps(rank, model, ddp, opt, record)
        _gram_accumulation_steps(rank, model, ddp, opt, record)
        _disjoint_parts_steps(rank, model, opt, record)
        record["params"] = [p.detach().clone() for p in model.parameters()]
        torch.save(record, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.distributed
def test_two_gloo_ranks_compute_identical_weights_and_parameters(tmp_path: Path) -> None:
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    # spawn, not fork: forking a process whose torch/OpenMP thread pools already run can deadlock
    # the child (a hang seen about once in ten runs with fork).
    mp.start_processes(
        _worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True, start_method="spawn"
    )
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD))
    for key in ("combine", "parts", "gram"):
        for a, b in zip(r0[key], r1[key], strict=True):
            assert torch.equal(a, b), (key, a, b)  # bitwise identical
    for a, b in zip(r0["params"], r1["params"], strict=True):
        assert torch.equal(a, b)
    # λ is the min-norm weighting of the rank-averaged gradients
    torch.testing.assert_close(r0["combine"][0], r0["check"][0], rtol=1e-5, atol=1e-6)
    assert r0["combine"][2][2] > 0  # absent on rank 1 only: still active, averaged over rank 0
    assert r0["parts"][1][0] > 0
    for a, b in zip(r0["gram"], r0["gram_ref"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert all(torch.all(w >= 0) and abs(w.sum().item() - 1) < 1e-5 for w in r0["combine"])
