"""Cached frozen-backbone features: the head's inputs, encoded once per text."""

from __future__ import annotations

import pytest
import torch

from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.study import features as features_module
from applications.reward_models.study.features import FeatureTable, encode_pairs


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    from applications.reward_models.testing import save_tiny_reward_model

    return save_tiny_reward_model(str(tmp_path_factory.mktemp("m") / "tiny"))


def test_features_give_the_models_rewards_through_its_head(tiny) -> None:
    from applications.reward_models.modeling.reward_model import load_reward_model, reward_head
    from applications.reward_models.modeling.scoring import score_pairs

    pairs = PreferenceSimulator(0).pairs("shared", 6)
    table = encode_pairs(pairs, tiny, max_length=128, progress=False)
    model, tok = load_reward_model(tiny)
    z_w, z_l = table.pairs(pairs)
    head = reward_head(model)
    r_w, r_l = score_pairs(model, tok, pairs, max_length=128, progress=False)
    torch.testing.assert_close(head(z_w).squeeze(-1), r_w, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(head(z_l).squeeze(-1), r_l, atol=1e-5, rtol=1e-5)


def test_the_cache_encodes_only_new_texts(tiny, tmp_path, monkeypatch) -> None:
    encoded: list[int] = []
    real = features_module._encode

    def counting(texts, *args):
        encoded.append(len(texts))
        return real(texts, *args)

    monkeypatch.setattr(features_module, "_encode", counting)
    sim = PreferenceSimulator(0)
    first, more = sim.pairs("shared", 4), sim.pairs("lists", 3)
    cache = str(tmp_path / "features.pt")
    a = encode_pairs(first, tiny, max_length=128, cache=cache, progress=False)
    b = encode_pairs(first + more, tiny, max_length=128, cache=cache, progress=False)
    c = encode_pairs(more, tiny, max_length=128, cache=cache, progress=False)
    assert encoded == [8, 6]  # 2 texts per pair; the third call encodes nothing
    torch.testing.assert_close(a.pairs(first)[0], b.pairs(first)[0])
    torch.testing.assert_close(b.pairs(more)[1], c.pairs(more)[1])
    other = encode_pairs(first, tiny, max_length=100, cache=cache, progress=False)
    assert encoded == [8, 6, 8]  # another max_length is another table
    assert other.width == a.width


def test_standardized_features_have_unit_scale_on_the_training_texts() -> None:
    pairs = PreferenceSimulator(0).pairs("shared", 5)
    rows = {}
    for p in pairs:
        rows.setdefault((p.prompt, p.chosen), len(rows))
        rows.setdefault((p.prompt, p.rejected), len(rows))
    table = FeatureTable(torch.randn(len(rows), 3) * 7 + 2, rows).standardized(pairs)
    torch.testing.assert_close(table.features.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(table.features.std(0), torch.ones(3), atol=1e-5, rtol=0)
