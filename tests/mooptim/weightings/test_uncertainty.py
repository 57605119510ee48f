"""Uncertainty weighting: Kendall's objective (twice TorchJD's UW), weights exp(−s), state."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchjd.scalarization import UW

from mooptim.weightings import UncertaintyWeighting
from tests.mooptim.weightings._checks import assert_close_relative, random_gramians

LOSSES = st.lists(st.floats(1e-6, 1e6), min_size=1, max_size=8)
LOG_VARS = st.floats(-5.0, 5.0)


@given(LOSSES, st.data())
def test_objective_and_gradients_are_twice_torchjd_uw(losses: list[float], data) -> None:
    k = len(losses)
    log_vars = torch.tensor(data.draw(st.lists(LOG_VARS, min_size=k, max_size=k)))
    ours = UncertaintyWeighting(num_objectives=k)
    ours.load_state_dict({"log_vars": log_vars})
    reference = UW(k)
    with torch.no_grad():
        reference.log_var.copy_(log_vars)
    values = torch.tensor(losses, requires_grad=True)
    ours_value = ours.objective(values)
    ours_grads = torch.autograd.grad(ours_value, [values, ours.log_vars])
    reference_value = reference(values)
    reference_grads = torch.autograd.grad(reference_value, [values, reference.log_var])
    assert_close_relative(ours_value, 2 * reference_value, 1e-6, "objective")
    for mine, theirs, what in zip(ours_grads, reference_grads, ["∂/∂L", "∂/∂s"], strict=True):
        assert_close_relative(mine, 2 * theirs, 1e-6, what)


@given(st.integers(1, 6), st.integers(1, 4), LOG_VARS)
def test_weights_are_exp_minus_s_for_every_problem(k: int, batch: int, s: float) -> None:
    weighting = UncertaintyWeighting(num_objectives=k, initial_log_var=s)
    weights = weighting(random_gramians(batch, k))
    expected = torch.full((batch, k), s, dtype=torch.float64).neg().exp()
    assert_close_relative(weights, expected, 1e-6, "exp(-s)")
    assert not weights.requires_grad


def test_training_moves_s_to_log_of_the_loss() -> None:
    """Minimising the objective over s alone drives exp(s_i) to L_i (∂/∂s_i = 1 − e^{−s_i} L_i)."""
    losses = torch.tensor([0.5, 4.0, 20.0])
    weighting = UncertaintyWeighting(num_objectives=3)
    optimizer = torch.optim.Adam(weighting.parameters(), lr=0.1)
    for _ in range(400):
        optimizer.zero_grad()
        weighting.objective(losses).backward()
        optimizer.step()
    assert_close_relative(weighting.log_vars.detach().exp(), losses, 1e-3, "exp(s)")
    assert_close_relative(weighting.regularizer().detach(), losses.log().sum(), 1e-3, "Σ s")


def test_lazy_creation_state_dict_and_reset() -> None:
    weighting = UncertaintyWeighting()
    assert list(weighting.parameters()) == [] and weighting.state_dict() == {}
    weighting(random_gramians(2, 3))
    (parameter,) = weighting.parameters()
    assert parameter.shape == (3,)
    weighting.load_state_dict({"log_vars": torch.tensor([0.1, 0.2, 0.3])})
    assert weighting.log_vars is parameter  # same object: an optimizer holding it still works
    restored = UncertaintyWeighting()
    restored.load_state_dict(weighting.state_dict())
    assert torch.equal(restored.log_vars.detach(), parameter.detach())
    weighting.reset()
    assert torch.equal(parameter.detach(), torch.zeros(3))


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="num_objectives must be a positive int"):
        UncertaintyWeighting(num_objectives=0)
    weighting = UncertaintyWeighting(num_objectives=2)
    with pytest.raises(ValueError, match="has 2 log-variances, got K = 3"):
        weighting(random_gramians(1, 3))
    with pytest.raises(ValueError, match=r"losses must have shape \(2,\)"):
        weighting.objective(torch.ones(3))
    with pytest.raises(RuntimeError, match="do not exist yet"):
        UncertaintyWeighting().regularizer()
    with pytest.raises(ValueError, match="uncertainty state must be"):
        weighting.load_state_dict({"s": torch.zeros(2)})
