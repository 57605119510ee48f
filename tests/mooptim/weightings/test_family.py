"""Contract of every registered weighting: shape, dtype, device, batching, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mooptim.weightings import WEIGHTINGS, Weighting, weighting_from_name
from tests.mooptim.weightings._checks import random_gramians

NAMES = sorted(WEIGHTINGS)


def _call(weighting: Weighting, gram: torch.Tensor) -> torch.Tensor:
    losses = torch.ones(gram.shape[:-1], dtype=gram.dtype) if weighting.needs_losses else None
    return weighting(gram, losses=losses)


@pytest.mark.parametrize("name", NAMES)
def test_registry_round_trip(name: str) -> None:
    weighting = weighting_from_name(name)
    assert type(weighting) is WEIGHTINGS[name] and weighting.name == name
    rebuilt = weighting_from_name(**weighting.config())
    assert rebuilt.config() == weighting.config()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_finite(name: str, dtype: torch.dtype) -> None:
    gram = random_gramians(6, 4).to(dtype).reshape(2, 3, 4, 4)
    weights = _call(weighting_from_name(name), gram)
    assert weights.shape == (2, 3, 4) and weights.dtype == dtype
    assert bool(torch.isfinite(weights).all())


@pytest.mark.parametrize("name", [n for n in NAMES if not WEIGHTINGS[n].stateful])
def test_batched_equals_loop(name: str) -> None:
    gram = random_gramians(5, 3, seed=1)
    weighting = weighting_from_name(name)
    if name == "random":
        pytest.skip("random draws differ between a batch and a loop by design")
    batched = _call(weighting, gram)
    looped = torch.stack([_call(weighting, g) for g in gram])
    torch.testing.assert_close(batched, looped, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_nan_names_the_problem(name: str) -> None:
    gram = random_gramians(3, 3)
    gram[2, 0, 1] = float("nan")
    with pytest.raises(ValueError, match=r"problem 2 of the batch"):
        _call(weighting_from_name(name), gram)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown weighting 'nope'.*mgda"):
        weighting_from_name("nope")


def test_unknown_hyperparameter_is_named() -> None:
    with pytest.raises(ValueError, match="bogus"):
        weighting_from_name("mean", bogus=1)


@pytest.mark.parametrize("name", NAMES)
def test_every_method_has_its_docs_page_in_the_nav(name: str) -> None:
    root = Path(__file__).resolve().parents[3]
    page = f"mooptim/weightings/{name}.md"
    assert (root / "docs" / page).is_file(), f"docs/{page} is missing"
    assert page in (root / "mkdocs.yml").read_text(), f"{page} is not in mkdocs.yml's nav"


def test_finite_entries_whose_sum_overflows_pass_and_nan_is_still_named() -> None:
    """The finiteness check sums the batch once; an overflowing sum of finite entries is no error,
    and a NaN in such a batch is still located."""
    gram = torch.full((3, 2, 2), 1e308, dtype=torch.float64)
    weights = weighting_from_name("mean")(gram)
    torch.testing.assert_close(weights, torch.full((3, 2), 0.5, dtype=torch.float64))
    gram[1, 1, 0] = float("nan")
    with pytest.raises(ValueError, match=r"problem 1 of the batch"):
        weighting_from_name("mean")(gram)
