"""One ``[K, K]`` CPU Gramian takes the numpy host path: same answers and errors as the batch."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings

import mooptim.weightings._base as base
from mooptim.weightings import WEIGHTINGS, weighting_from_name
from mooptim.weightings._pcgrad import pcgrad_permutations, pcgrad_weights
from mooptim.weightings._random import random_weights
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)

HOST = sorted(name for name, cls in WEIGHTINGS.items() if cls._host_twin)
SEEDED = {"random", "pcgrad"}
ITERATIVE = {"fairgrad"}


def test_the_fast_methods_have_a_host_twin() -> None:
    assert {"mean", "random", "mgda", "imtl_g", "aligned_mtl", "pcgrad", "fairgrad"} <= set(HOST)
    assert not any(cls._host_twin for cls in WEIGHTINGS.values() if cls.needs_losses)


def _reference(name: str, gram: torch.Tensor) -> torch.Tensor:
    """The general, batched torch path's answer for ``gram`` (a batch of two copies)."""
    if name == "random":
        return random_weights(gram[None], torch.Generator().manual_seed(5))[0]
    if name == "pcgrad":
        orders = pcgrad_permutations(gram[None], torch.Generator().manual_seed(5))
        return pcgrad_weights(gram[None], orders)[0]
    return weighting_from_name(name)(torch.stack([gram, gram]))[0]


def _outcome(fn):
    try:
        return fn(), None
    except ValueError as error:
        return None, str(error)


@pytest.mark.parametrize("name", HOST)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(jacobian=jacobians())
def test_host_path_equals_the_batched_path(name: str, jacobian: torch.Tensor) -> None:
    gram = gramian_of(jacobian)
    weighting = weighting_from_name(name, **({"seed": 5} if name in SEEDED else {}))
    ours, our_error = _outcome(lambda: weighting(gram))
    reference, error = _outcome(lambda: _reference(name, gram))
    assert (our_error is None) == (error is None), (our_error, error)
    if error is not None:
        return
    if name == "mgda":  # the min-norm point is unique, its weights need not be (rank-deficient)
        ours, reference = (w @ gram @ w for w in (ours, reference))
        assert_close_relative(ours, reference, 1e-9 * float(gram.diagonal().max()), name)
        return
    rtol = 1e-4 if name in ITERATIVE else 1e-6
    assert_close_relative(ours, reference, rtol, name)


@pytest.mark.parametrize("name", HOST)
def test_host_path_is_taken_and_skips_the_torch_checks(name: str, monkeypatch) -> None:
    def refuse(gram):
        raise AssertionError("the general path ran")

    monkeypatch.setattr(base, "check_gram_shape", refuse)
    weights = weighting_from_name(name)(random_gramians(1, 4)[0])
    assert weights.shape == (4,) and weights.dtype == torch.float64


@pytest.mark.parametrize("name", HOST)
def test_inputs_the_host_path_does_not_take_get_the_general_answer(name: str) -> None:
    gram = random_gramians(1, 3, seed=2)[0]
    kwargs = {"seed": 1} if name in SEEDED else {}
    expected = weighting_from_name(name, **kwargs)(gram)
    for variant in (gram.clone().requires_grad_(), torch._neg_view(-gram)):
        torch.testing.assert_close(weighting_from_name(name, **kwargs)(variant), expected)
    half = weighting_from_name(name, **kwargs)(gram.to(torch.float16))
    assert half.dtype == torch.float16
    single = weighting_from_name(name, **kwargs)(gram.to(torch.float32))
    assert single.dtype == torch.float32
    torch.testing.assert_close(single, expected.to(torch.float32), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", HOST)
def test_bad_input_gets_the_general_error(name: str) -> None:
    weighting = weighting_from_name(name)
    gram = random_gramians(1, 3)[0]
    gram[1, 2] = float("inf")
    with pytest.raises(ValueError, match=r"^gramian contains NaN or Inf$"):
        weighting(gram)
    with pytest.raises(ValueError, match="square"):
        weighting(torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="K = 0"):
        weighting(torch.ones(0, 0, dtype=torch.float64))


@pytest.mark.filterwarnings("error")
def test_entries_near_the_float64_maximum_pass_without_a_warning() -> None:
    gram = torch.tensor([[1e308, 0.0], [0.0, 1e308]], dtype=torch.float64)
    torch.testing.assert_close(
        weighting_from_name("mean")(gram), torch.full((2,), 0.5, dtype=torch.float64)
    )
    gram = torch.tensor([[1e200, 0.0], [0.0, 1e200]], dtype=torch.float64)
    torch.testing.assert_close(
        weighting_from_name("imtl_g")(gram), torch.full((2,), 0.5, dtype=torch.float64)
    )


def test_a_draw_on_the_host_path_is_the_draw_of_a_batch_of_one() -> None:
    gram = random_gramians(1, 5)[0]
    for name in sorted(SEEDED):
        one, batch = (weighting_from_name(name, seed=3) for _ in range(2))
        for _ in range(3):  # the generators advance alike
            torch.testing.assert_close(one(gram), batch(gram[None])[0], rtol=0, atol=0)
