"""Shared assertions for every min-norm method: one definition of "a correct answer".

Tolerances are relative to ``s = max_i G_ii`` (the unit of every Gram entry).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from mooptim import MinNormResult, MinNormSolver


@dataclass(frozen=True)
class MethodCase:
    """A solver configuration and the accuracy it promises (relative to ``max_i G_ii``)."""

    name: str
    solver: MinNormSolver
    objective_tol: float  # f(λ) − f* ≤ objective_tol · s
    kkt_tol: float  # (Gλ)_i ≥ f − kkt_tol · s for every i
    support_tol: float  # |(Gλ)_i − f| ≤ support_tol · s where λ_i > support_threshold
    support_threshold: float


def method_cases() -> list[MethodCase]:
    """All methods, configured to converge on the small problems of the tests."""
    return [
        MethodCase("exact", MinNormSolver("exact"), 1e-10, 1e-10, 1e-9, 0.0),
        MethodCase(
            "frank_wolfe",
            MinNormSolver("frank_wolfe", tol=1e-3, max_iter=20_000, check_every=64),
            1e-3,
            1e-3,
            2e-2,
            0.1,
        ),
        MethodCase(
            "projected_gradient",
            MinNormSolver("projected_gradient", tol=1e-9, max_iter=50_000),
            1e-9,
            1e-9,
            1e-6,
            1e-3,
        ),
        MethodCase("cvxpy", MinNormSolver("cvxpy"), 1e-9, 1e-7, 1e-6, 1e-5),
    ]


def scale_of(gram: Tensor) -> Tensor:
    s = gram.diagonal(dim1=-2, dim2=-1).abs().amax(-1)
    return torch.where(s > 0, s, torch.ones_like(s))


def assert_simplex(weights: Tensor, atol: float = 1e-12) -> None:
    assert torch.isfinite(weights).all(), weights
    assert (weights >= 0).all(), weights
    torch.testing.assert_close(
        weights.sum(-1), torch.ones(weights.shape[:-1], dtype=weights.dtype), atol=atol, rtol=0
    )


def assert_valid(
    res: MinNormResult, gram: Tensor, case: MethodCase, *, converged: bool = True
) -> None:
    """Simplex, objective below every vertex and the uniform point, KKT, consistent fields."""
    g = gram.to(torch.float64)
    k = g.shape[-1]
    w = res.weights.to(torch.float64)
    s = scale_of(g)
    assert res.weights.dtype == gram.dtype and res.weights.shape == gram.shape[:-1]
    assert res.iterations.dtype == torch.int64 and res.iterations.shape == gram.shape[:-2]
    assert_simplex(w, atol=1e-12 if gram.dtype == torch.float64 else 1e-5)
    if gram.dtype != torch.float64:
        return
    gw = (g @ w.unsqueeze(-1)).squeeze(-1)
    f = (w * gw).sum(-1)
    torch.testing.assert_close(res.min_norm_sq, f, rtol=1e-9, atol=1e-12 * float(s.max()))
    assert torch.isfinite(res.kkt_residual).all() and (res.kkt_residual >= 0).all()
    if converged:
        assert res.converged.all(), (case.name, res)
    tol = case.objective_tol * s
    vertices = g.diagonal(dim1=-2, dim2=-1)
    assert (f.unsqueeze(-1) <= vertices + tol.unsqueeze(-1)).all(), (f, vertices)
    uniform = g.sum((-1, -2)) / k**2
    assert (f <= uniform + tol).all(), (f, uniform)
    assert (gw >= f.unsqueeze(-1) - case.kkt_tol * s.unsqueeze(-1)).all(), (case.name, gw, f)
    # Complementary slackness, weighted by λ (what every method's certificate bounds) ...
    slack = w * (gw - f.unsqueeze(-1)).abs()
    assert (slack <= case.kkt_tol * s.unsqueeze(-1)).all(), (case.name, w, gw, f)
    # ... and equality on the (numerically clear) support.
    on_support = w > case.support_threshold
    dev = ((gw - f.unsqueeze(-1)).abs() - case.support_tol * s.unsqueeze(-1)).clamp_min(0)
    assert (dev[on_support] == 0).all(), (case.name, w, gw, f)
    # The duality gap certifies the objective: f − f* ≤ gap.
    assert (res.duality_gap.to(torch.float64) <= case.objective_tol * s + 1e-12 * s).all() or not (
        converged
    )


def assert_objective_close(res: MinNormResult, reference: Tensor, gram: Tensor, rel: float) -> None:
    """``|f − f_ref| ≤ rel · max(f_ref, 1e-6·s)``: relative, with an absolute floor tied to scale."""
    s = scale_of(gram.to(torch.float64))
    f = res.min_norm_sq.to(torch.float64)
    ref = reference.to(torch.float64)
    bound = rel * torch.maximum(ref.abs(), 1e-6 * s)
    assert ((f - ref).abs() <= bound).all(), (f, ref, (f - ref) / ref)
