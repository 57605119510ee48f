"""UPGrad and DualProj (the dual-cone projections): TorchJD's answers on hard Gramians,
non-conflict, preference vector, errors. One module for both: they differ only in the rows
projected (every e_i for UPGrad, the preference itself for DualProj)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchjd.aggregation import DualProjWeighting as TorchJDDualProj
from torchjd.aggregation import UPGradWeighting as TorchJDUPGrad

from mooptim.weightings import (
    DualProjWeighting,
    UPGradWeighting,
    dualproj_weights,
    upgrad_weights,
    weighting_from_name,
)
from tests.mooptim.weightings._checks import gramian_of, jacobians
from tests.mooptim.weightings._dual_cone_checks import (
    batched_case,
    check_against_torchjd,
    check_never_conflicts,
)


@dataclass(frozen=True)
class Method:
    name: str
    ours: type
    weights: Callable[..., torch.Tensor]
    torchjd: type


METHODS = [
    Method("upgrad", UPGradWeighting, upgrad_weights, TorchJDUPGrad),
    Method("dualproj", DualProjWeighting, dualproj_weights, TorchJDDualProj),
]
each_method = pytest.mark.parametrize("method", METHODS, ids=[m.name for m in METHODS])


@settings(max_examples=80, deadline=None)
@given(jacobians())
@each_method
def test_matches_torchjd(method: Method, jacobian: torch.Tensor) -> None:
    check_against_torchjd(method.ours(), method.torchjd(), jacobian)


@settings(max_examples=30, deadline=None)
@given(jacobians(), st.data())
@each_method
def test_matches_torchjd_with_a_preference(
    method: Method, jacobian: torch.Tensor, data: st.DataObject
) -> None:
    k = jacobian.shape[0]
    pref = data.draw(st.lists(st.floats(0.01, 10.0), min_size=k, max_size=k))
    reference = method.torchjd(pref_vector=torch.tensor(pref, dtype=torch.float64))
    check_against_torchjd(method.ours(pref_vector=pref), reference, jacobian)


@settings(max_examples=40, deadline=None)
@given(jacobians())
@each_method
def test_never_conflicts(method: Method, jacobian: torch.Tensor) -> None:
    gram = gramian_of(jacobian)
    if float(gram.diagonal().sum()) >= 1e-4:  # below norm_eps the Gramian counts as zero
        check_never_conflicts(method.weights(gram), gram)


@each_method
def test_batched_equals_loop_and_keeps_leading_dims(method: Method) -> None:
    gram, flat = batched_case()
    batched = method.weights(gram)
    looped = torch.stack([method.weights(g) for g in flat]).reshape(2, 3, 5)
    torch.testing.assert_close(batched, looped, rtol=1e-10, atol=1e-13)


@each_method
def test_dtype_and_device_are_kept(method: Method) -> None:
    gram, _ = batched_case()
    weights = method.ours()(gram.float())
    assert weights.dtype == torch.float32 and weights.device == gram.device


@each_method
def test_wrong_preference_length_is_named(method: Method) -> None:
    with pytest.raises(ValueError, match=r"pref_vector has 2 entries but the Gramian has K = 3"):
        method.ours(pref_vector=[0.5, 0.5])(torch.eye(3))


@pytest.mark.parametrize("bad", [{"pref_vector": [[1.0]]}, {"norm_eps": -1.0}, {"reg_eps": -1}])
@each_method
def test_bad_hyperparameters_are_refused(method: Method, bad: dict) -> None:
    with pytest.raises(ValueError):
        weighting_from_name(method.name, **bad)


@each_method
def test_indefinite_gramian_names_the_problem(method: Method) -> None:
    good = torch.eye(2, dtype=torch.float64)
    indefinite = torch.tensor([[1.0, -3.0], [-3.0, 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"problem 1 of the batch"):
        method.weights(torch.stack([good, indefinite]))


@each_method
def test_config_round_trip_keeps_the_preference(method: Method) -> None:
    weighting = method.ours(pref_vector=torch.tensor([1.0, 2.0]), reg_eps=1e-3)
    rebuilt = weighting_from_name(**weighting.config())
    assert rebuilt.config() == {
        "name": method.name,
        "pref_vector": [1.0, 2.0],
        "norm_eps": 1e-4,
        "reg_eps": 1e-3,
    }


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@each_method
def test_runs_on_the_gpu(method: Method) -> None:
    gram, _ = batched_case()
    weights = method.weights(gram.cuda())
    assert weights.is_cuda
    torch.testing.assert_close(weights.cpu(), method.weights(gram), rtol=1e-9, atol=1e-12)


@each_method
def test_nan_in_the_pure_function_names_the_problem(method: Method) -> None:
    gram = torch.eye(3, dtype=torch.float64).repeat(2, 2, 1, 1)
    gram[1, 0, 0, 2] = float("nan")
    with pytest.raises(ValueError, match=r"problem \(1, 0\) of the batch"):
        method.weights(gram)
