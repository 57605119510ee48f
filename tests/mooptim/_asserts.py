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
    slack_tol: float  # λ_i |(Gλ)_i − f| ≤ slack_tol · s (complementarity)
    support_tol: float  # |(Gλ)_i − f| ≤ support_tol · s where λ_i > support_threshold
    support_threshold: float
    always_converges: bool  # False: may stop at max_iter; then its own certificate is checked


def method_cases() -> list[MethodCase]:
    """All methods, configured to converge on the small problems of the tests."""
    return [
        MethodCase("exact", MinNormSolver("exact"), 1e-10, 1e-10, 1e-10, 1e-9, 0.0, True),
        MethodCase(
            "frank_wolfe",
            MinNormSolver("frank_wolfe", tol=1e-3, max_iter=3000, check_every=64),
            2e-3,  # f − f* ≤ duality gap ≤ tol
            5e-4,
            # Frank-Wolfe only certifies the gap: mass left on a wrong vertex decays as O(1/t).
            float("inf"),
            float("inf"),
            1.0,
            False,
        ),
        MethodCase(
            "projected_gradient",
            MinNormSolver("projected_gradient", tol=1e-7, max_iter=3000),
            2e-7,
            1e-7,
            1e-7,
            1e-4,
            1e-3,
            False,
        ),
        MethodCase("cvxpy", MinNormSolver("cvxpy"), 1e-9, 1e-8, 1e-8, 1e-6, 1e-5, True),
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


def assert_valid(res: MinNormResult, gram: Tensor, case: MethodCase) -> None:
    """Simplex, objective below every vertex and the uniform point, KKT, consistent fields.

    A method that may stop at ``max_iter`` is held to its own reported certificate instead of
    its tolerance when it did not converge; the certificate itself is recomputed here.
    """
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
    stationarity = (f - gw.amin(-1)).clamp_min(0)
    slack_max = (w * (gw - f.unsqueeze(-1)).abs()).amax(-1)
    expected = torch.maximum(stationarity, slack_max) / s
    torch.testing.assert_close(res.kkt_residual, expected, rtol=1e-6, atol=1e-13)
    torch.testing.assert_close(res.duality_gap, 2 * stationarity, rtol=1e-6, atol=1e-13 * s.max())
    if case.always_converges:
        assert res.converged.all(), (case.name, res)
    else:
        stopped = res.converged | (res.iterations == case.solver.max_iter)
        assert stopped.all(), (case.name, res)
    if not res.converged.all():
        loose = res.kkt_residual.amax() * 1.01 + 1e-12
        loose = float(loose)
        case = MethodCase(case.name, case.solver, 2 * loose, loose, loose, 1.0, 1.0, False)
    tol = case.objective_tol * s
    vertices = g.diagonal(dim1=-2, dim2=-1)
    assert (f.unsqueeze(-1) <= vertices + tol.unsqueeze(-1)).all(), (f, vertices)
    uniform = g.sum((-1, -2)) / k**2
    assert (f <= uniform + tol).all(), (f, uniform)
    assert (gw >= f.unsqueeze(-1) - case.kkt_tol * s.unsqueeze(-1)).all(), (case.name, gw, f)
    # Complementary slackness, weighted by λ (what every method's certificate bounds) ...
    slack = w * (gw - f.unsqueeze(-1)).abs()
    assert (slack <= case.slack_tol * s.unsqueeze(-1)).all(), (case.name, w, gw, f)
    # ... and equality on the (numerically clear) support.
    on_support = w > case.support_threshold
    dev = ((gw - f.unsqueeze(-1)).abs() - case.support_tol * s.unsqueeze(-1)).clamp_min(0)
    assert (dev[on_support] == 0).all(), (case.name, w, gw, f)


def assert_objective_close(res: MinNormResult, reference: Tensor, gram: Tensor, rel: float) -> None:
    """``|f − f_ref| ≤ rel · max(f_ref, 1e-6·s)``: relative, with a floor tied to the scale."""
    s = scale_of(gram.to(torch.float64))
    f = res.min_norm_sq.to(torch.float64)
    ref = reference.to(torch.float64)
    bound = rel * torch.maximum(ref.abs(), 1e-6 * s)
    assert ((f - ref).abs() <= bound).all(), (f, ref, (f - ref) / ref)
