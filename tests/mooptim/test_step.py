"""The weighting step as a pure function: same inputs, same outputs, no hidden state."""

from __future__ import annotations

import pytest
import torch

from mooptim import L2Normalization, MinNormSolver, min_norm_step, weighting_step
from mooptim._solver_weighting import solver_weighting
from mooptim._step import warm_start
from mooptim.weightings import MeanWeighting, MGDAWeighting


def _inputs(k: int = 4, d: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    vectors = torch.randn(k, d, generator=gen, dtype=torch.float64)
    vectors[1] = 0  # a zero gradient: never active
    return {
        "gram": vectors @ vectors.T,
        "vectors": vectors,
        "values": torch.rand(k, generator=gen, dtype=torch.float64) + 0.5,
        "losses": torch.rand(k, generator=gen, dtype=torch.float64),
        "present": torch.tensor([True] * (k - 1) + [False]),
    }


def test_same_inputs_same_step_and_inputs_untouched() -> None:
    inputs = _inputs()
    copies = {name: t.clone() for name, t in inputs.items()}
    options = {"solver": MinNormSolver(), "normalizer": L2Normalization(), "ema_alpha": 0.5}
    first = min_norm_step(**inputs, **options)
    again = min_norm_step(**inputs, **options)
    assert torch.equal(first.weights, again.weights) and torch.equal(first.ema, again.ema)
    for name, t in inputs.items():
        assert torch.equal(t, copies[name]), name
    assert first.active.tolist() == [True, False, True, False]
    assert first.num_active == 2 and first.weights[[1, 3]].tolist() == [0.0, 0.0]
    torch.testing.assert_close(first.weights.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert first.result is not None and first.ema_seen.tolist() == [True, False, True, False]


def test_ema_state_is_threaded_through_the_caller() -> None:
    inputs = _inputs()
    solver = MinNormSolver()
    one = min_norm_step(**inputs, solver=solver, ema_alpha=0.25)
    moved = {**inputs, "vectors": inputs["vectors"] * 2, "gram": inputs["gram"] * 4}
    two = min_norm_step(**moved, solver=solver, ema=(one.ema, one.ema_seen), ema_alpha=0.25)
    torch.testing.assert_close(two.ema[0], 1.25 * inputs["vectors"][0])  # (1 − α)·g + α·2g
    fresh = min_norm_step(**moved, solver=solver, ema_alpha=0.25)
    torch.testing.assert_close(fresh.ema[0], 2 * inputs["vectors"][0])
    assert min_norm_step(**inputs, solver=solver).ema is None


def test_no_active_objective_gives_zero_weights() -> None:
    inputs = _inputs()
    inputs["present"] = torch.zeros(4, dtype=torch.bool)
    step = min_norm_step(**inputs, solver=MinNormSolver())
    assert step.num_active == 0 and step.result is None and not step.weights.any()


def test_non_finite_inputs_name_the_objective() -> None:
    inputs = _inputs()
    inputs["losses"][2] = float("nan")
    with pytest.raises(ValueError, match="loss of objective 2"):
        min_norm_step(**inputs, solver=MinNormSolver())
    inputs = _inputs()
    inputs["gram"][0, 0] = float("inf")
    with pytest.raises(ValueError, match="gradient of objective 0"):
        min_norm_step(**inputs, solver=MinNormSolver())


def test_warm_start_restricts_and_renormalises() -> None:
    like = torch.zeros(4, 4, dtype=torch.float64)
    prev = torch.tensor([0.5, 0.0, 0.25, 0.25], dtype=torch.float64)
    assert warm_start(None, [0, 2], like) is None
    assert warm_start(prev[:3], [0, 2], like) is None  # a different K starts afresh
    for prev_, idx, expected in (
        (prev, [0, 2], [2 / 3, 1 / 3]),
        (prev, [1, 3], [0.0, 1.0]),
        (prev * 0, [1, 3], [0.5, 0.5]),  # no weight on these before: no useful start, uniform
    ):
        got = warm_start(prev_, idx, like)
        torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64))


def test_min_norm_step_is_the_mgda_weighting_step_bit_for_bit() -> None:
    inputs = _inputs(k=5, seed=2)
    options = {"normalizer": L2Normalization(), "ema_alpha": 0.5}
    old = min_norm_step(**inputs, solver=MinNormSolver(), **options)
    new = weighting_step(**inputs, weighting=MGDAWeighting(), **options)
    for field in ("weights", "gram", "min_norm_sq", "active", "ema"):
        assert torch.equal(getattr(old, field), getattr(new, field)), field
    assert torch.equal(old.result.weights, new.result.weights)
    # a solver object is kept as given, and its config is MGDA's
    fw = solver_weighting(MinNormSolver("frank_wolfe", max_iter=50))
    assert fw.config() == {"name": "mgda", "method": "frank_wolfe", "tol": None, "max_iter": 50}
    assert solver_weighting(MinNormSolver()).config() == MGDAWeighting().config()


def test_another_weighting_sees_the_active_sub_problem_only() -> None:
    inputs = _inputs()  # objective 1 has a zero gradient, objective 3 is absent
    step = weighting_step(**inputs, weighting=MeanWeighting())
    assert step.weights.tolist() == [0.5, 0.0, 0.5, 0.0] and step.result is None
    w, gram = step.weights, step.gram
    torch.testing.assert_close(step.min_norm_sq, w @ gram @ w)
    assert weighting_step(**inputs, weighting=MeanWeighting(), previous=w).weights.equal(w)
