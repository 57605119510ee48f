"""The study's regime: MLP body + head, variants at equal pairs per step, step logs, splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from applications.reward_models.sections import MoreConfig
from applications.reward_models.study.body import RewardMLP
from applications.reward_models.study.regime import (
    Regime,
    _loss,
    _micro_batches,
    head_gradient_stats,
    subspace_of,
    train_variant,
)
from applications.reward_models.study.splits import build_splits
from applications.reward_models.study.variants import (
    PRIMARY,
    VARIANTS,
    Variant,
    available,
    comparisons,
)
from applications.reward_models.training.step import MoreStep
from tests.reward_models.study._regime_helpers import study_lambda, table_of


def test_head_gradient_stats_known_answers() -> None:
    cos, rank = head_gradient_stats(torch.eye(3, 5) * torch.tensor([[1.0], [2.0], [3.0]]))
    assert cos == pytest.approx(0.0) and 1 < rank < 3
    cos, rank = head_gradient_stats(torch.eye(4))
    assert cos == pytest.approx(0.0) and rank == pytest.approx(4.0)
    cos, rank = head_gradient_stats(torch.ones(3, 4))
    assert cos == pytest.approx(1.0) and rank == pytest.approx(1.0)


def test_model_is_a_shared_body_and_a_bias_free_head() -> None:
    torch.manual_seed(0)
    model = RewardMLP(384, (128, 32))
    assert model.head.bias is None and model.last_layer.weight.shape == (32, 128)
    z = torch.randn(6, 384)
    assert torch.allclose(model(z), model.head(model.represent(z)).squeeze(-1))


def test_unregistered_weightings_are_skipped_with_a_note() -> None:
    notes: list[str] = []
    from mooptim.weightings import WEIGHTINGS

    got = available(list(VARIANTS), 16, notes.append)
    for v in VARIANTS.values():
        registered = v.more is None or v.more.weighting in WEIGHTINGS
        assert (v in got) == registered
        assert any(repr(v.name) in n for n in notes) != registered
    assert [v.name for v in available(["more_official"], 12, notes.append)] == []
    assert "do not divide" in notes[-1]


def test_comparisons_start_with_the_two_primary_ones() -> None:
    pairs = comparisons(["multitask", "balanced_uniform", "more", "more_official"])
    assert pairs[:2] == list(PRIMARY)
    assert ("more_official", "more") in pairs and len(set(pairs)) == len(pairs)


def test_micro_batches_hold_one_pair_of_every_source() -> None:
    order = torch.randperm(12, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor([0, 1, 2] * 4)[order]
    parts = _micro_batches(ids, 3, 4)
    assert len(parts) == 4
    assert all(sorted(ids[p].tolist()) == [0, 1, 2] for p in parts)
    assert sorted(torch.cat(parts).tolist()) == list(range(12))


def test_official_lambda_is_the_mean_of_the_micro_batch_lambdas() -> None:
    torch.manual_seed(0)
    model = RewardMLP(8, (6, 4))
    ids = torch.tensor([0, 1, 2] * 4)
    z_w, z_l = torch.randn(12, 8), torch.randn(12, 8)
    margins = model(z_w) - model(z_l)
    variant = VARIANTS["more_official"]
    official = type(variant)(variant.name, True, variant.more, micro_batches=4)
    step = MoreStep.from_config(variant.more, model.head, 3)
    loss, lam = _loss(official, step, margins, ids, 3)
    reference = MoreStep.from_config(variant.more, model.head, 3)
    nll = torch.nn.functional.softplus(-margins)
    parts = [reference.combine([nll[j][ids[j] == i].mean() for i in range(3)])
             for j in _micro_batches(ids, 3, 4)]  # fmt: skip
    assert torch.allclose(lam, torch.stack([p.weights.double() for p in parts]).mean(0))
    assert torch.allclose(loss, torch.stack([p.loss for p in parts]).mean())


@pytest.mark.parametrize("name", ["multitask", "balanced_uniform", "more", "more_body"])
def test_train_variant_logs_every_step_and_is_deterministic(name: str) -> None:
    data = build_splits("classic", 0, 12, 16)
    table, regime = table_of(data), Regime(steps=6, pairs_per_source=4, hidden=(8, 8), eval_every=3)
    curve = {n: p[:3] for n, p in data.calibration.items()}
    a = train_variant(VARIANTS[name], regime, 0, table, data, curve)
    b = train_variant(VARIANTS[name], regime, 0, table, data, curve)
    assert a.weights.shape == (6, 5) and np.allclose(a.weights.sum(1), 1.0)
    assert a.cosine.shape == a.effective_rank.shape == (6,)
    assert [c["step"] for c in a.curve] == [3, 6]
    assert all(np.array_equal(a.test[n], b.test[n]) for n in data.names)
    assert set(a.test) == set(data.names) and a.temperature > 0


def test_held_out_halves_are_disjoint_from_each_other_and_from_training() -> None:
    data = build_splits("classic", 1, 40, 60)
    for name in data.names:
        cal, test, train = data.calibration[name], data.test[name], data.train[name]
        assert cal and test
        key = lambda p: (p.prompt, p.chosen, p.rejected)  # noqa: E731
        assert not {key(p) for p in cal} & ({key(p) for p in test} | {key(p) for p in train})
        assert not {p.prompt for p in cal} & {p.prompt for p in test}  # split by prompt
        assert len(cal) + len(test) + data.removed[name] == 60


MORE_FIELD_CHANGES = {
    "lambda_pairs": {"lambda_pairs": 1},
    "weighting": {"weighting": "mean"},
    "weighting_options": {"weighting_options": {"method": "frank_wolfe", "max_iter": "1"}},
    "normalizer": {"normalizer": "none"},
    "ema_alpha": {"ema_alpha": None},
    "subspace": {"subspace": "all"},
    "last_n_blocks": {"subspace": "last_blocks", "last_n_blocks": 2},
}


@pytest.mark.parametrize("field", sorted(MORE_FIELD_CHANGES))
def test_the_study_loop_honours_every_more_field(field: str) -> None:
    """The study's loop runs the one MORE step from the variant's MoreConfig: changing a field
    changes λ (runs are deterministic, so any gap is the field's effect); as on the trainer's
    and TRL's paths (tests/reward_models/integrations/test_integrations_trl.py)."""
    changed, default = study_lambda(**MORE_FIELD_CHANGES[field]), study_lambda()
    if field == "last_n_blocks":
        default = study_lambda(subspace="last_blocks", last_n_blocks=1)
    assert np.abs(changed - default).max() > 1e-4, field
    if field == "weighting":
        assert np.allclose(changed, 1 / 5)


def test_the_study_loop_honours_the_strategy_and_the_loss_scale() -> None:
    """``gram`` gives autograd's λ (no EMA: it keeps no vectors); ``scale_by_num_objectives``
    multiplies the loss by the number of active sources."""
    gram, autograd = study_lambda(ema_alpha=None, strategy="gram"), study_lambda(ema_alpha=None)
    np.testing.assert_allclose(gram, autograd, atol=1e-6)
    torch.manual_seed(0)
    model = RewardMLP(8, (6, 4))
    ids = torch.tensor([0, 1, 2] * 4)
    margins = model(torch.randn(12, 8)) - model(torch.randn(12, 8))
    variant = Variant("probe", True, MoreConfig())
    plain = _loss(variant, MoreStep.from_config(MoreConfig(), model.head, 3), margins, ids, 3)
    scaled_step = MoreStep.from_config(MoreConfig(scale_by_num_objectives=True), model.head, 3)
    scaled = _loss(variant, scaled_step, margins, ids, 3)
    torch.testing.assert_close(scaled[0], 3 * plain[0])
    torch.testing.assert_close(scaled[1], plain[1])


def test_subspaces_of_the_mlp() -> None:
    model = RewardMLP(8, (6, 5, 4))
    layers = [m for m in model.body if isinstance(m, torch.nn.Linear)]
    head = [model.head.weight]
    assert subspace_of(model, MoreConfig()) == head
    last = subspace_of(model, MoreConfig(subspace="last_blocks", last_n_blocks=1))
    assert last == [layers[-1].weight, layers[-1].bias, *head]
    two = subspace_of(model, MoreConfig(subspace="last_blocks", last_n_blocks=2))
    assert two == [*layers[-2].parameters(), *layers[-1].parameters(), *head]
    assert subspace_of(model, MoreConfig(subspace="all")) == list(model.parameters())
