"""DualProj: TorchJD's answers on hard Gramians, non-conflict, preference vector, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchjd.aggregation import DualProjWeighting as TorchJDDualProj

from mooptim.weightings import DualProjWeighting, dualproj_weights, weighting_from_name
from tests.mooptim.weightings._checks import gramian_of, jacobians
from tests.mooptim.weightings._dual_cone_checks import (
    batched_case,
    check_against_torchjd,
    check_never_conflicts,
)


@settings(max_examples=80, deadline=None)
@given(jacobians())
def test_matches_torchjd(jacobian: torch.Tensor) -> None:
    check_against_torchjd(DualProjWeighting(), TorchJDDualProj(), jacobian)


@settings(max_examples=30, deadline=None)
@given(jacobians(), st.data())
def test_matches_torchjd_with_a_preference(jacobian: torch.Tensor, data: st.DataObject) -> None:
    k = jacobian.shape[0]
    pref = data.draw(st.lists(st.floats(0.01, 10.0), min_size=k, max_size=k))
    reference = TorchJDDualProj(pref_vector=torch.tensor(pref, dtype=torch.float64))
    check_against_torchjd(DualProjWeighting(pref_vector=pref), reference, jacobian)


@settings(max_examples=40, deadline=None)
@given(jacobians())
def test_never_conflicts(jacobian: torch.Tensor) -> None:
    gram = gramian_of(jacobian)
    if float(gram.diagonal().sum()) >= 1e-4:  # below norm_eps the Gramian counts as zero
        check_never_conflicts(dualproj_weights(gram), gram)


def test_batched_equals_loop_and_keeps_leading_dims() -> None:
    gram, flat = batched_case()
    batched = dualproj_weights(gram)
    looped = torch.stack([dualproj_weights(g) for g in flat]).reshape(2, 3, 5)
    torch.testing.assert_close(batched, looped, rtol=1e-10, atol=1e-13)


def test_dtype_and_device_are_kept() -> None:
    gram, _ = batched_case()
    weights = DualProjWeighting()(gram.float())
    assert weights.dtype == torch.float32 and weights.device == gram.device


def test_wrong_preference_length_is_named() -> None:
    with pytest.raises(ValueError, match=r"pref_vector has 2 entries but the Gramian has K = 3"):
        DualProjWeighting(pref_vector=[0.5, 0.5])(torch.eye(3))


@pytest.mark.parametrize("bad", [{"pref_vector": [[1.0]]}, {"norm_eps": -1.0}, {"reg_eps": -1}])
def test_bad_hyperparameters_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        weighting_from_name("dualproj", **bad)


def test_indefinite_gramian_names_the_problem() -> None:
    good = torch.eye(2, dtype=torch.float64)
    indefinite = torch.tensor([[1.0, -3.0], [-3.0, 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"problem 1 of the batch"):
        dualproj_weights(torch.stack([good, indefinite]))


def test_config_round_trip_keeps_the_preference() -> None:
    weighting = DualProjWeighting(pref_vector=torch.tensor([1.0, 2.0]), reg_eps=1e-3)
    rebuilt = weighting_from_name(**weighting.config())
    assert rebuilt.config() == {
        "name": "dualproj",
        "pref_vector": [1.0, 2.0],
        "norm_eps": 1e-4,
        "reg_eps": 1e-3,
    }


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_the_gpu() -> None:
    gram, _ = batched_case()
    weights = dualproj_weights(gram.cuda())
    assert weights.is_cuda
    torch.testing.assert_close(weights.cpu(), dualproj_weights(gram), rtol=1e-9, atol=1e-12)


def test_nan_in_the_pure_function_names_the_problem() -> None:
    gram = torch.eye(3, dtype=torch.float64).repeat(2, 2, 1, 1)
    gram[1, 0, 0, 2] = float("nan")
    with pytest.raises(ValueError, match=r"problem \(1, 0\) of the batch"):
        dualproj_weights(gram)
