"""Schemes: one name → scheme lookup, each scheme's sampler and loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from applications.reward_models.data.sampling import BalancedBatchSampler, UniformBatchSampler
from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.testing import save_tiny_reward_model
from applications.reward_models.training.config import TrainConfig
from applications.reward_models.training.schemes import (
    SCHEMES,
    BalancedUniform,
    More,
    MultiTask,
    Single,
    resolve_scheme,
)
from applications.reward_models.training.trainer import train_scheme


def test_resolve_scheme_by_name_and_instance():
    assert isinstance(resolve_scheme("more"), More)
    assert isinstance(resolve_scheme("balanced_uniform"), BalancedUniform)
    scheme = MultiTask()
    assert resolve_scheme(scheme) is scheme
    assert set(SCHEMES) == {"single", "multitask", "more", "balanced_uniform"}
    with pytest.raises(ValueError, match="unknown scheme 'mor'"):
        resolve_scheme("mor")


def _train_pairs() -> dict[str, list]:
    sim = PreferenceSimulator(0, ["shared", "lists"])
    return {"shared": sim.pairs("shared", 5), "lists": sim.pairs("lists", 3)}


def test_samplers_of_each_scheme():
    config = TrainConfig(pairs_per_source=2, single_source="lists")
    train = _train_pairs()
    single = Single().sampler(config, train)
    assert isinstance(single, UniformBatchSampler) and single.epoch_size == 3
    assert single.batch_size == 4  # K × m pairs of the one source
    assert isinstance(MultiTask().sampler(config, train), UniformBatchSampler)
    for scheme in (More(), BalancedUniform()):
        sampler = scheme.sampler(config, train)
        assert isinstance(sampler, BalancedBatchSampler)
        first = next(iter(sampler))
        assert [p.source for p in first] == ["shared", "shared", "lists", "lists"]
    with pytest.raises(ValueError, match="single_source 'nope'"):
        Single().sampler(TrainConfig(single_source="nope"), train)


def test_pair_mean_and_balanced_uniform_losses():
    margins = torch.tensor([1.0, -2.0, 0.5, 3.0, 0.0, -1.0])
    ids = ["a", "a", "a", "a", "b", "b"]
    names = ["a", "b", "c"]
    nll = -F.logsigmoid(margins)
    out = MultiTask().loss(margins, ids, names, None)
    torch.testing.assert_close(out.loss, nll.mean())
    assert out.weights is None and out.losses[2] is None
    uniform = BalancedUniform().loss(margins, ids, names, None)
    # (1/K') Σ L_i over the two present sources, not the mean over the six pairs
    torch.testing.assert_close(uniform.loss, (nll[:4].mean() + nll[4:].mean()) / 2)
    assert uniform.weights.tolist() == [0.5, 0.5, 0.0]
    with pytest.raises(ValueError, match="needs its weighting"):
        More().loss(margins, ids, names, None)


def test_balanced_uniform_trains_with_uniform_lambda(tmp_path):
    model = save_tiny_reward_model(str(tmp_path / "bert"), "bert")
    config = TrainConfig(
        model=model,
        output_dir=str(tmp_path / "out"),
        sources=[SourceSpec("shared"), SourceSpec("lists")],
        train_pairs_per_source=5,
        test_pairs_per_source=2,
        pairs_per_source=2,
        max_steps=2,
        max_length=128,
        progress_bar=False,
    ).validate()
    from applications.reward_models.data.splits import load_source_data
    from applications.reward_models.modeling.reward_model import load_tokenizer

    data = load_source_data(config, load_tokenizer(model))
    result = train_scheme(config, BalancedUniform(), data)
    assert result.scheme == "balanced_uniform"
    assert [row["lambda"] for row in result.log] == [{"shared": 0.5, "lists": 0.5}] * 2
    assert (tmp_path / "out" / "balanced_uniform" / "final" / "model.safetensors").is_file()


def test_world_size_must_split_every_batch_evenly():
    from applications.reward_models.training.distributed import rank_share

    config = TrainConfig(pairs_per_source=2)
    MultiTask().check_world_size(config, 3, 2)  # 6 pairs over 2 ranks
    MultiTask().check_world_size(config, 3, 3)
    More().check_world_size(config, 3, 2)  # 1 pair of every source per rank
    with pytest.raises(ValueError, match="pairs_per_source=2 does not split evenly over 3"):
        More().check_world_size(config, 3, 3)
    with pytest.raises(ValueError, match="6 pairs do not split evenly over 4"):
        Single().check_world_size(config, 3, 4)
    assert rank_share(list("abcdef"), 1, 2) == ["b", "d", "f"]
    with pytest.raises(ValueError, match="5 pairs does not split evenly over 2"):
        rank_share(list("abcde"), 0, 2)


def _linear_step(head: torch.nn.Linear, num_sources: int, lambda_pairs: int | None = None):
    from applications.reward_models.sections import MoreConfig
    from applications.reward_models.training.step import MoreStep

    more = MoreConfig(normalizer="none", ema_alpha=None, lambda_pairs=lambda_pairs)
    return MoreStep.from_config(more, head, num_sources)


def test_lambda_from_the_first_pairs_of_every_source_weights_the_full_losses():
    torch.manual_seed(0)
    head = torch.nn.Linear(3, 1)
    z = torch.randn(8, 3)
    ids = ["a", "b"] * 4  # interleaved: the first pair of a is row 0, of b row 1
    names = ["a", "b"]
    margins = head(z).squeeze(-1)
    out = More().loss(margins, ids, names, _linear_step(head, 2, lambda_pairs=1))
    # λ from rows 0 and 1 alone, as an independent solve on those two losses
    reference = _linear_step(head, 2).combine(
        [-F.logsigmoid(head(z[i : i + 1]).squeeze(-1)).mean() for i in (0, 1)]
    )
    torch.testing.assert_close(out.weights, reference.weights)
    full = [-F.logsigmoid(margins[i::2]).mean() for i in (0, 1)]
    torch.testing.assert_close(out.loss, out.weights[0] * full[0] + out.weights[1] * full[1])
    everything = More().loss(head(z).squeeze(-1), ids, names, _linear_step(head, 2))
    assert not torch.allclose(everything.weights, out.weights)


def test_lambda_pairs_comes_from_the_config(tmp_path):
    from applications.reward_models.modeling.reward_model import load_reward_model
    from applications.reward_models.testing import save_tiny_reward_model

    model, _ = load_reward_model(save_tiny_reward_model(str(tmp_path / "bert"), "bert"))
    config = TrainConfig()
    config.more.lambda_pairs = 1
    assert resolve_scheme("more", config).weighting(config, model, 2).lambda_pairs == 1
    assert resolve_scheme("more").weighting(TrainConfig(), model, 2).lambda_pairs is None
    assert resolve_scheme("multitask", config) is SCHEMES["multitask"]
    with pytest.raises(ValueError, match="lambda_pairs must be >= 1"):
        _linear_step(torch.nn.Linear(2, 1), 2, lambda_pairs=0)
