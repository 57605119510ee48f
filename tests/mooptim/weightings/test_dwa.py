"""DWA: TorchJD's DWA weights divided by K, over epochs of losses; state and bad input."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchjd.scalarization import DWA

from mooptim.weightings import DWAWeighting, dwa_weights
from tests.mooptim.weightings._checks import assert_close_relative, random_gramians

EPOCHS = st.lists(  # epochs of batches of K losses, the sign of each objective kept throughout
    st.lists(st.lists(st.floats(1e-3, 1e3), min_size=3, max_size=3), min_size=1, max_size=4),
    min_size=1,
    max_size=5,
)


def _torchjd_weights(dwa: DWA, losses: torch.Tensor) -> torch.Tensor:
    """TorchJD's weights: the gradient of its scalarization with respect to the losses."""
    values = losses.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(dwa(values), values)
    return gradient


@given(EPOCHS, st.sampled_from([0.5, 2.0, 10.0]))
def test_matches_torchjd_divided_by_k(epochs: list, temperature: float) -> None:
    ours, reference = DWAWeighting(temperature), DWA(temperature)
    gram = random_gramians(1, 3)[0]
    for epoch in epochs:
        for batch in epoch:
            losses = torch.tensor(batch, dtype=torch.float64)
            expected = _torchjd_weights(reference, losses) / 3
            assert_close_relative(ours(gram, losses=losses), expected, 1e-9, "dwa vs TorchJD / K")
        ours.step()
        reference.step()


@given(st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=8), st.data())
def test_weights_on_the_simplex_and_favour_the_slowest(older: list[float], data) -> None:
    k = len(older)
    newer = data.draw(st.lists(st.floats(1e-3, 1e3), min_size=k, max_size=k))
    weights = dwa_weights(torch.tensor(older), torch.tensor(newer), 2.0)
    assert_close_relative(weights.sum(), torch.tensor(1.0), 1e-6, "Σ w")
    rates = torch.tensor(newer) / torch.tensor(older)
    assert int(weights.argmax()) == int(rates.argmax()) or bool(
        torch.isclose(weights.max(), weights[rates.argmax()])
    )


def test_batched_histories_are_per_problem() -> None:
    grams = random_gramians(2, 2)
    weighting = DWAWeighting()
    for epoch_losses in ([[1.0, 1.0], [1.0, 1.0]], [[0.5, 1.0], [1.0, 0.25]]):
        weighting(grams, losses=torch.tensor(epoch_losses, dtype=torch.float64))
        weighting.step()
    weights = weighting(grams, losses=torch.ones(2, 2, dtype=torch.float64))
    rates = torch.tensor([[0.5, 1.0], [1.0, 0.25]], dtype=torch.float64)
    expected = dwa_weights(torch.ones_like(rates), rates, 2.0)
    assert_close_relative(weights, expected, 1e-12, "per-problem DWA")


def test_state_dict_resumes_and_reset_forgets() -> None:
    gram = random_gramians(1, 3)[0]
    weighting = DWAWeighting()
    for losses in ([3.0, 2.0, 1.0], [1.0, 2.0, 3.0]):
        weighting(gram, losses=torch.tensor(losses, dtype=torch.float64))
        weighting.step()
    resumed = DWAWeighting()
    resumed.load_state_dict(weighting.state_dict())
    losses = torch.ones(3, dtype=torch.float64)
    assert torch.equal(resumed(gram, losses=losses), weighting(gram, losses=losses))
    weighting.reset()
    assert torch.equal(weighting(gram, losses=losses), torch.full((3,), 1 / 3, dtype=torch.float64))


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="temperature must be > 0"):
        DWAWeighting(0.0)
    weighting = DWAWeighting()
    grams = random_gramians(3, 2)
    with pytest.raises(ValueError, match="needs the loss values"):
        weighting(grams)
    losses = torch.ones(3, 2, dtype=torch.float64)
    losses[2, 1] = 0.0
    weighting(grams, losses=losses)
    with pytest.raises(ValueError, match=r"epoch-average loss is 0.*problem 2 of the batch"):
        weighting.step()
    weighting.reset()
    weighting(grams, losses=torch.ones(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="changed shape"):
        weighting(grams[:2], losses=torch.ones(2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="dwa state must have keys"):
        weighting.load_state_dict({"averages": []})
