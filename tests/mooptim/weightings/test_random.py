"""Random (RLW): TorchJD's draws from the same RNG state, on the simplex, seeded and resumable."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchjd.aggregation import RandomWeighting as TorchJDRandom

from mooptim.weightings import RandomWeighting
from tests.mooptim.weightings._checks import (
    assert_close_relative,
    gramian_of,
    jacobians,
    random_gramians,
)


@given(jacobians(), st.integers(0, 2**31 - 1))
def test_matches_torchjd_from_the_same_rng_state(jacobian: torch.Tensor, seed: int) -> None:
    """TorchJD draws from torch's global RNG; seeded alike, ours draws the same numbers."""
    torch.manual_seed(seed)
    reference = TorchJDRandom()(jacobian)
    ours = RandomWeighting(seed=seed)(gramian_of(jacobian))
    assert_close_relative(ours, reference, 1e-12, "random vs TorchJD")


@given(st.integers(1, 9), st.integers(1, 50), st.integers(0, 2**31 - 1))
def test_on_the_open_simplex(k: int, batch: int, seed: int) -> None:
    weights = RandomWeighting(seed=seed)(random_gramians(batch, k))
    assert bool((weights > 0).all())
    assert_close_relative(weights.sum(-1), torch.ones(batch), 1e-12, "Σ w")


def test_seeded_reset_and_state_dict_reproduce_the_stream() -> None:
    gram = random_gramians(4, 3)
    first = RandomWeighting(seed=7)
    a, b = first(gram), first(gram)
    assert not torch.equal(a, b)  # a fresh draw each call
    second = RandomWeighting(seed=7)
    assert torch.equal(second(gram), a)
    state = second.state_dict()
    c = second(gram)
    assert torch.equal(c, b)
    resumed = RandomWeighting(seed=123)
    resumed.load_state_dict(state)
    assert torch.equal(resumed(gram), b)
    second.reset()
    assert torch.equal(second(gram), a)


def test_own_generator_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(0)
    weighting = RandomWeighting(seed=1)
    before = torch.get_rng_state()
    weighting(random_gramians(2, 3))
    assert torch.equal(torch.get_rng_state(), before)


def test_unseeded_is_reproducible_under_manual_seed() -> None:
    gram = random_gramians(2, 5)
    torch.manual_seed(11)
    a = RandomWeighting()(gram)
    torch.manual_seed(11)
    assert torch.equal(RandomWeighting()(gram), a)


def test_seed_and_generator_are_exclusive_and_bad_state_is_named() -> None:
    with pytest.raises(ValueError, match="either seed or generator"):
        RandomWeighting(seed=1, generator=torch.Generator())
    with pytest.raises(ValueError, match="random state must be"):
        RandomWeighting(seed=1).load_state_dict({"log_vars": torch.zeros(2)})
