"""The dual-cone QP engine: KKT certificate, optimality against scipy's BVLS, engines and paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import lsq_linear

import mooptim.weightings._dual_cone_rows as dual_cone_rows
from mooptim.weightings import project_to_dual_cone
from tests.mooptim.weightings._checks import gramian_of, jacobians, random_gramians

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def problems(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    """``([1, K, K] Gramian, [1, R, K] rows)``: a hard Jacobian and rows of mixed signs."""
    gram = gramian_of(draw(jacobians()))
    k = gram.shape[0]
    r = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    u = torch.randn(1, r, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return gram[None], u


def _regularized(gram: torch.Tensor, norm_eps: float = 1e-4, reg_eps: float = 1e-4) -> np.ndarray:
    trace = float(gram.diagonal().sum())
    h = np.zeros_like(gram.numpy()) if trace < norm_eps else gram.numpy() / trace
    return h + reg_eps * np.eye(gram.shape[0])


def _bvls(h: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The reference: ``min_{v ≥ u} ‖Lᵀv‖²`` (``H = LLᵀ``) by scipy's bounded-variable LS."""
    factor = np.linalg.cholesky(h).T
    upper = np.full_like(u, np.inf)
    return lsq_linear(factor, np.zeros(len(u)), bounds=(u, upper), method="bvls", tol=1e-14).x


@SETTINGS
@given(problems(), st.booleans())
def test_kkt_certificate_holds(problem: tuple[torch.Tensor, torch.Tensor], on_host: bool) -> None:
    gram, u = problem
    result = project_to_dual_cone(gram, u, on_host=on_host)
    assert bool(result.converged.all())
    assert bool((result.weights >= u).all()), "v ≥ u must hold exactly"
    assert float(result.kkt_residual.max()) <= 1e-10, result


@SETTINGS
@given(problems())
def test_matches_scipy_bvls(problem: tuple[torch.Tensor, torch.Tensor]) -> None:
    gram, u = problem
    h = _regularized(gram[0])
    result = project_to_dual_cone(gram, u)
    for row, v in zip(u[0].numpy(), result.weights[0].numpy(), strict=True):
        reference = _bvls(h, row)
        assert v @ h @ v <= reference @ h @ reference + 1e-12 * max(1.0, np.abs(row).max()) ** 2
        np.testing.assert_allclose(v, reference, atol=1e-7 * max(1.0, np.abs(row).max()))


@pytest.mark.parametrize("k", [3, 6, 12])
def test_newton_and_lawson_hanson_agree(k: int, monkeypatch: pytest.MonkeyPatch) -> None:
    gram = random_gramians(50, k, seed=k)
    u = torch.randn(50, k, k, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    newton = project_to_dual_cone(gram, u)
    monkeypatch.setattr(dual_cone_rows, "NEWTON_ITERATIONS", 0)  # every row to the active set
    for on_host in (True, False):
        active_set = project_to_dual_cone(gram, u, on_host=on_host)
        assert bool(active_set.converged.all())
        torch.testing.assert_close(active_set.weights, newton.weights, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("on_host", [True, False])
def test_batched_equals_loop(on_host: bool) -> None:
    gram = random_gramians(7, 5, d=3, seed=2)
    u = torch.randn(7, 3, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    batched = project_to_dual_cone(gram, u, on_host=on_host).weights
    pairs = zip(gram, u, strict=True)
    looped = torch.cat(
        [project_to_dual_cone(g[None], r[None], on_host=on_host).weights for g, r in pairs]
    )
    torch.testing.assert_close(batched, looped, rtol=1e-10, atol=1e-12)


def test_host_and_torch_paths_agree() -> None:
    gram = random_gramians(20, 8, d=4, seed=4)
    u = torch.rand(20, 8, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    host = project_to_dual_cone(gram, u, on_host=True)
    device = project_to_dual_cone(gram, u, on_host=False)
    torch.testing.assert_close(host.weights, device.weights, rtol=1e-9, atol=1e-11)
    assert torch.equal(host.converged, device.converged)


@pytest.mark.parametrize(
    "gram",
    [
        torch.zeros(1, 3, 3, dtype=torch.float64),
        torch.full((1, 1, 1), 2.0, dtype=torch.float64),
        torch.ones(1, 4, 4, dtype=torch.float64),  # four identical gradients
        torch.tensor([[[1.0, -1.0], [-1.0, 1.0]]], dtype=torch.float64),  # opposed
        torch.tensor([[[3e-310, 1e-310], [1e-310, 2e-310]]], dtype=torch.float64),  # subnormal
    ],
    ids=["zero", "k1", "duplicates", "opposed", "subnormal"],
)
@pytest.mark.parametrize("eps", [(1e-4, 1e-4), (0.0, 0.0)], ids=["torchjd_eps", "no_eps"])
def test_degenerate_inputs_are_solved(gram: torch.Tensor, eps: tuple[float, float]) -> None:
    k = gram.shape[-1]
    u = torch.eye(k, dtype=torch.float64)[None] / k
    result = project_to_dual_cone(gram, u, norm_eps=eps[0], reg_eps=eps[1])
    assert bool(torch.isfinite(result.weights).all())
    assert bool(result.converged.all()) and float(result.kkt_residual.max()) <= 1e-8


@pytest.mark.parametrize("scale", [1e-8, 1e-4, 1e4, 1e8])
def test_scale_invariant_without_norm_eps(scale: float) -> None:
    gram = random_gramians(4, 5, d=3, seed=6)
    u = torch.eye(5, dtype=torch.float64).expand(4, 5, 5) / 5
    reference = project_to_dual_cone(gram, u, norm_eps=0.0).weights
    scaled = project_to_dual_cone(gram * scale**2, u, norm_eps=0.0).weights
    torch.testing.assert_close(scaled, reference, rtol=1e-9, atol=1e-12)
