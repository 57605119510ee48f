"""Gradient strategies agree with each other and with autograd of Σ λ_i L_i."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from mooptim.gradients import DisjointParts, GramAccumulation, SubspaceAutograd
from mooptim.normalizers import L2Normalization
from mooptim.solver import MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormWeighting

K = 3


def make_problem(seed: int = 0) -> tuple[nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 1))
    model = model.double()
    # conflicting targets per part so that λ is interior, not a vertex
    parts = []
    for i in range(K):
        x = torch.randn(7, 4, dtype=torch.float64)
        parts.append((x, (x[:, i : i + 1] * (-1) ** i + 0.3 * i)))
    return model, parts


def part_loss(model: nn.Module, part: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = part
    return ((model(x) - y) ** 2).mean()


def grads(model: nn.Module) -> list[torch.Tensor]:
    return [p.grad.detach().clone() for p in model.parameters()]


def reference_grad(model: nn.Module, parts: list, weights: torch.Tensor) -> list[torch.Tensor]:
    model.zero_grad()
    sum(w * part_loss(model, part) for w, part in zip(weights, parts, strict=True)).backward()
    return grads(model)


@pytest.mark.parametrize("subspace_kind", ["all", "head", "last"])
def test_three_strategies_agree_on_weights_and_grad(subspace_kind: str) -> None:
    model, parts = make_problem()
    sub = {
        "all": Subspace.all(model),
        "head": Subspace.from_module(model[4]),
        "last": Subspace.from_patterns(model, ["2.*", "4.*"]),
    }[subspace_kind]
    results = {}
    for name, strategy in [
        ("autograd", SubspaceAutograd()),
        ("gram", GramAccumulation()),
        ("gram_blocks", GramAccumulation(block_numel=8)),
    ]:
        model.zero_grad()
        w = MinNormWeighting(sub, MinNormSolver(), L2Normalization(), strategy=strategy)
        out = w.combine([part_loss(model, p) for p in parts])
        out.loss.backward()
        results[name] = (out.weights, grads(model), out.min_norm_sq)
    model.zero_grad()
    w = MinNormWeighting(sub, MinNormSolver(), L2Normalization(), strategy=DisjointParts())
    rest = [p for p in model.parameters()]
    out = w.backward_parts([lambda p=p: part_loss(model, p) for p in parts], params=rest)
    results["disjoint"] = (out.weights, grads(model), out.min_norm_sq)

    lam = results["autograd"][0]
    assert (lam > 0.01).sum() >= 2, f"test problem should have an interior λ, got {lam}"
    expected = reference_grad(model, parts, lam)
    for name, (weights, g, mn) in results.items():
        torch.testing.assert_close(weights, lam, rtol=1e-9, atol=1e-10, msg=name)
        torch.testing.assert_close(mn, results["autograd"][2], rtol=1e-8, atol=1e-12, msg=name)
        for a, b in zip(g, expected, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12, msg=name)


def test_gram_matches_explicit_jacobian() -> None:
    model, parts = make_problem(1)
    sub = Subspace.all(model)
    losses = [part_loss(model, p) for p in parts]
    jac = torch.stack(
        [sub.flatten(torch.autograd.grad(loss, sub.params, retain_graph=True)) for loss in losses]
    )
    res = SubspaceAutograd().compute(losses, sub)
    torch.testing.assert_close(res.vectors, jac)
    torch.testing.assert_close(res.gram, jac @ jac.T)


@settings(max_examples=25)
@given(block=st.integers(1, 200), absent=st.sampled_from([None, 0, 1, 2]))
def test_gram_accumulation_blocks_equal_full_gram(block: int, absent: int | None) -> None:
    model, parts = make_problem(2)
    sub = Subspace.all(model)
    losses: list[torch.Tensor | None] = [part_loss(model, p) for p in parts]
    if absent is not None:
        losses[absent] = None
    full = SubspaceAutograd().compute(losses, sub).gram
    acc = GramAccumulation(block_numel=block)
    blocks = acc.blocks(sub)
    assert [p for b in blocks for p in b] == list(sub.params)
    assert all(sum(p.numel() for p in b) <= block or len(b) == 1 for b in blocks)
    res = acc.compute(losses, sub)
    assert res.vectors is None
    torch.testing.assert_close(res.gram, full, rtol=1e-12, atol=1e-14)
    if absent is not None:
        assert torch.all(res.gram[absent] == 0)


def test_reduce_is_applied_before_the_gram() -> None:
    model, parts = make_problem(3)
    sub = Subspace.from_module(model[4])
    losses = [part_loss(model, p) for p in parts]
    plain = SubspaceAutograd().compute(losses, sub)
    doubled = GramAccumulation(block_numel=3).compute(losses, sub, reduce=lambda t: 2 * t)
    torch.testing.assert_close(doubled.gram, 4 * plain.gram)


def test_block_numel_validation() -> None:
    with pytest.raises(ValueError, match="block_numel"):
        GramAccumulation(block_numel=0)
