"""Training reward heads on cached features: the trainer's step, λ records, gradient shares."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from applications.reward_models.data.schema import PreferencePair
from applications.reward_models.study.config import StudyConfig
from applications.reward_models.study.features import FeatureTable
from applications.reward_models.study.head import RewardHead, _grad_shares, train_head
from applications.reward_models.study.splits import StudySplits
from applications.reward_models.study.variants import Variant, train_config
from applications.reward_models.training.schemes import resolve_scheme

SOURCES = ["a", "b", "c"]


def _data(n: int = 12, width: int = 6) -> tuple[FeatureTable, StudySplits]:
    """Features where source c's preference opposes the others' on the first feature."""
    gen = torch.Generator().manual_seed(0)
    rows: dict[tuple[str, str], int] = {}
    feats = []
    split: dict[str, dict[str, list[PreferencePair]]] = {"train": {}, "calibration": {}, "test": {}}
    for s in SOURCES:
        for part, count in (("train", n), ("calibration", 4), ("test", 6)):
            pairs = []
            for j in range(count):
                prompt = f"{s}-{part}-{j}"
                z_w, z_l = torch.randn(width, generator=gen), torch.randn(width, generator=gen)
                sign = -1.0 if s == "c" else 1.0
                z_w[0], z_l[0] = sign * 1.0, -sign * 1.0
                for text, z in (("w", z_w), ("l", z_l)):
                    rows[(prompt, text)] = len(feats)
                    feats.append(z)
                pairs.append(PreferencePair(prompt, "w", "l", s, true_prob=0.7))
            split[part][s] = pairs
    table = FeatureTable(torch.stack(feats), rows)
    data = StudySplits(
        split["train"], split["calibration"], split["test"], dict.fromkeys(SOURCES, 0)
    )
    return table, data


def _run(scheme: str, seed: int = 0, steps: int = 6, **more):
    table, data = _data()
    study = StudyConfig(max_steps=steps, pairs_per_source=2, learning_rate=0.05)  # type: ignore[call-arg]
    settings = train_config(study, Variant(scheme, scheme, more), seed, SOURCES)
    curve = {s: data.test[s][:2] for s in SOURCES}
    return train_head(settings, resolve_scheme(scheme, settings), table, data, curve, 3)


def test_runs_are_deterministic_and_record_every_step() -> None:
    first, again = _run("more"), _run("more")
    assert first.weights.shape == (6, 3) and first.grad_shares.shape == (6, 3)
    np.testing.assert_array_equal(first.weights, again.weights)
    np.testing.assert_array_equal(first.scored["a"].test, again.scored["a"].test)
    assert not np.array_equal(first.scored["a"].test, _run("more", seed=1).scored["a"].test)
    np.testing.assert_allclose(first.weights.sum(1), 1.0, atol=1e-6)
    assert [p["step"] for p in first.curve] == [3, 6]
    assert len(first.scored["b"].test) == 6 and len(first.scored["b"].calibration) == 4
    np.testing.assert_allclose(first.scored["c"].true_prob, 0.7)


def test_pair_mean_schemes_record_their_batch_shares() -> None:
    uniform = _run("balanced_uniform")
    np.testing.assert_allclose(uniform.weights, 1 / 3)
    multitask = _run("multitask")
    # a MultiTask batch's mean loss weights each source by its share of the batch's pairs
    np.testing.assert_allclose(multitask.weights.sum(1), 1.0)
    assert (multitask.weights * 6 == np.round(multitask.weights * 6)).all()


def test_gradient_shares_follow_the_closed_form_head_gradient() -> None:
    torch.manual_seed(0)
    head = RewardHead(4)
    z_w, z_l = torch.randn(6, 4), torch.randn(6, 4)
    ids = torch.tensor([0, 0, 1, 1, 2, 2])
    weights = torch.tensor([0.5, 0.3, 0.2])
    margins = head(z_w) - head(z_l)
    norms = []
    for i in range(3):
        loss = -F.logsigmoid(margins[ids == i]).mean()
        (grad,) = torch.autograd.grad(loss, head.score.weight, retain_graph=True)
        norms.append(grad.norm())
    expected = weights * torch.stack(norms)
    shares = _grad_shares(margins, z_w - z_l, ids, weights, 3)
    torch.testing.assert_close(shares, expected / expected.sum())


def test_one_pair_lambda_differs_from_the_full_batch_lambda() -> None:
    full, one = _run("more"), _run("more", lambda_pairs=1)
    assert not np.allclose(full.weights, one.weights)


def test_head_starts_like_the_trainers_head() -> None:
    torch.manual_seed(3)
    head = RewardHead(384)
    assert head.score.bias.item() == 0.0
    assert 0.015 < head.score.weight.std().item() < 0.025
    with pytest.raises(KeyError):
        _data()[0].pairs([PreferencePair("nope", "w", "l", "a")])
