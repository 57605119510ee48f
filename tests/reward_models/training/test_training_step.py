"""MORE's one step (training/step.py): λ from the configured weighting, the loss Σ λ_i L_i."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from applications.reward_models.sections import MoreConfig
from applications.reward_models.training.step import MoreStep, first_per_source
from mooptim import MinNormSolver


def _batch(seed: int = 0):
    torch.manual_seed(seed)
    head = torch.nn.Linear(4, 1)
    z = torch.randn(9, 4)
    ids = ["a", "b", "c"] * 3
    return head, z, ids, ["a", "b", "c"]


def test_mgda_lambda_is_the_min_norm_point_of_the_head_gradients():
    head, z, ids, names = _batch()
    step = MoreStep.from_config(MoreConfig(normalizer="none", ema_alpha=None), head, 3)
    out = step(head(z).squeeze(-1), ids, names)
    grads = []
    for i in range(3):
        loss = -F.logsigmoid(head(z[i::3]).squeeze(-1)).mean()
        g = torch.autograd.grad(loss, list(head.parameters()))
        grads.append(torch.cat([x.reshape(-1) for x in g]))
    reference = MinNormSolver().solve(torch.stack(grads)).weights
    torch.testing.assert_close(out.weights.double(), reference.double(), atol=1e-6, rtol=0)
    full = [-F.logsigmoid(head(z[i::3]).squeeze(-1)).mean() for i in range(3)]
    expected = sum(w * li for w, li in zip(out.weights, full, strict=True))
    torch.testing.assert_close(out.loss, expected)


def test_mean_weighting_is_uniform_over_the_present_sources():
    head, z, ids, names = _batch()
    step = MoreStep.from_config(MoreConfig(weighting="mean"), head, 4)
    out = step(head(z).squeeze(-1), ids, [*names, "absent"])
    torch.testing.assert_close(out.weights.float(), torch.tensor([1 / 3, 1 / 3, 1 / 3, 0.0]))
    assert out.losses[3] is None and step.config()["weighting"] == {"name": "mean"}


@pytest.mark.parametrize("lambda_pairs", [None, 1])
def test_scale_by_num_objectives_scales_the_loss_on_every_path(lambda_pairs):
    # with lambda_pairs the loss used to be built without the K' factor
    head, z, ids, names = _batch()
    margins = head(z).squeeze(-1)
    plain = MoreStep.from_config(MoreConfig(lambda_pairs=lambda_pairs), head, 3)(
        margins, ids, names
    )
    scaled_config = MoreConfig(lambda_pairs=lambda_pairs, scale_by_num_objectives=True)
    scaled = MoreStep.from_config(scaled_config, head, 3)(margins, ids, names)
    torch.testing.assert_close(scaled.weights, plain.weights)
    torch.testing.assert_close(scaled.loss, 3 * plain.loss)


def test_first_per_source_keeps_batch_order():
    assert first_per_source(["a", "b", "a", "c", "b", "a"], 1) == [0, 1, 3]
    assert first_per_source(["a", "b", "a", "c", "b", "a"], 2) == [0, 1, 2, 3, 4]


def test_step_state_round_trips_and_parameters_may_be_a_list():
    head, z, ids, names = _batch()
    step = MoreStep.from_config(MoreConfig(), list(head.parameters()), 3)
    step(head(z).squeeze(-1), ids, names)
    again = MoreStep.from_config(MoreConfig(), list(head.parameters()), 3)
    again.load_state_dict(step.state_dict())
    assert again.state_dict()["step"] == step.state_dict()["step"] == 1
