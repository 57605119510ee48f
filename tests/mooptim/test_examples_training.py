"""Executed examples: min-norm training on conflicting objectives and a shared-trunk multitask."""

from __future__ import annotations

import torch
from torch import nn

from mooptim.normalizers import L2Normalization
from mooptim.solver import MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormWeighting


def quadratic_losses(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> list[torch.Tensor]:
    # L1 = ½‖x − a‖², L2 = 5‖x − b‖²: their Pareto set is the segment [a, b]
    return [0.5 * ((x - a) ** 2).sum(), 5.0 * ((x - b) ** 2).sum()]


def test_min_norm_reaches_pareto_stationarity_and_never_trades_objectives() -> None:
    a, b = (
        torch.tensor([0.0, 0.0], dtype=torch.float64),
        torch.tensor([2.0, 0.0], dtype=torch.float64),
    )
    start = torch.tensor([0.2, 1.5], dtype=torch.float64)
    x = nn.Parameter(start.clone())
    weighting = MinNormWeighting(Subspace([x], ["x"]), MinNormSolver())
    opt = torch.optim.SGD([x], lr=0.05)
    history, norms = [], []
    for _ in range(300):
        opt.zero_grad()
        out = weighting.combine(quadratic_losses(x, a, b))
        out.loss.backward()
        opt.step()
        history.append(out.losses.clone())
        norms.append(out.min_norm_sq.item())
    assert norms[-1] < 1e-10 * norms[0]  # Pareto-stationary: the min-norm point is ~0
    assert abs(x[1].item()) < 1e-4 and -1e-4 < x[0].item() < 2 + 1e-4  # on the segment [a, b]
    steps = torch.stack(history)
    assert torch.all(steps[1:] <= steps[:-1] + 1e-12)  # a common descent direction: no trade-off

    # Plain summed loss from the same start: heads to its own minimiser and increases L1 on the way;
    # started at the Pareto-stationary point min-norm stopped at, it does not stay there.
    y = nn.Parameter(start.clone())
    opt = torch.optim.SGD([y], lr=0.05)
    l1 = []
    for _ in range(300):
        opt.zero_grad()
        losses = quadratic_losses(y, a, b)
        l1.append(losses[0].item())
        sum(losses).backward()
        opt.step()
    assert max(l1) > l1[0] + 0.1
    z = nn.Parameter(x.detach().clone())
    sum(quadratic_losses(z, a, b)).backward()
    assert z.grad.norm() > 1.0  # the summed gradient is far from zero there: it would move on
    assert (x.detach() - y.detach()).norm() > 0.1


def make_multitask(seed: int = 0) -> tuple[nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
    )
    true = torch.randn(3, 8)
    true[1] = -0.5 * true[0] + 0.5 * true[1]  # partly conflicting tasks
    tasks = []
    for i in range(3):
        x = torch.randn(64, 8)
        tasks.append((x, torch.tanh(x @ true[i]).unsqueeze(1) + 0.05 * torch.randn(64, 1)))
    return model, tasks


def train(subspace_of, steps: int = 150, seed: int = 0) -> tuple[list[float], list[float], list]:
    model, tasks = make_multitask(seed)
    weighting = MinNormWeighting(
        subspace_of(model), MinNormSolver(), L2Normalization(), ema_alpha=0.9
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = last = None
    weights = []
    for _ in range(steps):
        opt.zero_grad()
        out = weighting.combine([((model(x) - y) ** 2).mean() for x, y in tasks])
        out.loss.backward()
        opt.step()
        first = out.losses.tolist() if first is None else first
        last = out.losses.tolist()
        weights.append(out.weights)
    return first, last, weights


def test_shared_trunk_multitask_head_only_and_full_subspace_both_train() -> None:
    head_first, head_last, head_w = train(lambda m: Subspace.from_module(m[4]))
    full_first, full_last, full_w = train(Subspace.all)
    for first, last in ((head_first, head_last), (full_first, full_last)):
        assert all(l < f for f, l in zip(first, last, strict=True)), (first, last)
        assert sum(last) < 0.7 * sum(first)
    for ws in (head_w, full_w):
        w = torch.stack(ws)
        torch.testing.assert_close(w.sum(1), torch.ones(len(ws)))
        assert (w > 0.05).sum(1).float().mean() >= 2  # weights mix objectives, not one vertex
    # the head subspace sees a different Gram than the full model, so λ differs
    assert (torch.stack(head_w) - torch.stack(full_w)).abs().max() > 1e-3
