"""Tests for applications.reward_models.modeling.scoring: batching invariance, ordering, errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from applications.reward_models.data.collate import PairCollator
from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.modeling.reward_model import compute_rewards
from applications.reward_models.modeling.scoring import length_buckets, score_pairs, score_responses
from applications.reward_models.testing import tiny_reward_model


@pytest.fixture(scope="module")
def tiny_rm():
    # spread-out rewards (initializer_range=0.5), so that mix-ups would show
    return tiny_reward_model("bert", "cls", initializer_range=0.5)


@pytest.fixture(scope="module")
def pairs():
    sim = PreferenceSimulator(seed=0)
    return sim.pairs("shared", 12, split="test") + sim.pairs("verbose", 9, split="test")


def test_length_buckets_cover_each_index_once_with_equal_padded_length():
    lengths = [3, 17, 9, 8, 1, 16, 40, 24, 8]
    batches = length_buckets(lengths, batch_size=2, pad_to_multiple_of=8, max_length=512)
    seen = sorted(i for _, rows in batches for i in rows)
    assert seen == list(range(len(lengths)))
    for t, rows in batches:
        assert 1 <= len(rows) <= 2
        assert all(-(-lengths[i] // 8) * 8 == t for i in rows)
    assert [t for t, _ in batches] == sorted(t for t, _ in batches)


def test_length_buckets_caps_at_max_length():
    assert length_buckets([510], 4, pad_to_multiple_of=8, max_length=512)[0][0] == 512
    assert length_buckets([509], 4, pad_to_multiple_of=8, max_length=510)[0][0] == 510


class PositionHash(torch.nn.Module):
    """Exact float64 function of each row's ids, mask AND positions: any change of padding shows."""

    def __init__(self) -> None:
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask):
        pos = torch.arange(1, input_ids.shape[1] + 1, dtype=torch.float64)
        h = ((input_ids.double() + 7 * attention_mask.double()) * pos.sqrt()).sum(-1, keepdim=True)
        return SimpleNamespace(logits=h + input_ids.shape[1] * 1e-3)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 64])
def test_inputs_identical_whatever_the_batch_size(tiny_rm, pairs, batch_size):
    # Each sequence gets exactly the same tokens, padding and positions for every batch size.
    _, tok = tiny_rm
    model = PositionHash()
    ref_c, ref_r = score_pairs(model, tok, pairs, batch_size=5, max_length=256, progress=False)
    c, r = score_pairs(model, tok, pairs, batch_size=batch_size, max_length=256, progress=False)
    assert torch.equal(c, ref_c) and torch.equal(r, ref_r)


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_results_identical_whatever_the_batch_size(tiny_rm, pairs, batch_size):
    # Same inputs (above); the only difference left is BLAS rounding for other batch shapes.
    model, tok = tiny_rm
    ref_c, ref_r = score_pairs(model, tok, pairs, batch_size=5, max_length=256, progress=False)
    assert float(ref_c.std()) > 0.1
    c, r = score_pairs(model, tok, pairs, batch_size=batch_size, max_length=256, progress=False)
    assert torch.allclose(c, ref_c, rtol=0, atol=1e-5)
    assert torch.allclose(r, ref_r, rtol=0, atol=1e-5)


def test_left_padding_is_respected(tiny_rm, pairs):
    _, tok = tiny_rm
    model = PositionHash()
    right = score_pairs(model, tok, pairs[:4], max_length=256, progress=False)[0]
    tok.padding_side = "left"
    try:
        left = score_pairs(model, tok, pairs[:4], max_length=256, progress=False)[0]
    finally:
        tok.padding_side = "right"
    assert not torch.equal(left, right)


def test_matches_the_training_collator(tiny_rm, pairs):
    # Same tokens as training (PairCollator), one pair at a time (no padding): same rewards.
    model, tok = tiny_rm
    c, r = score_pairs(model, tok, pairs, batch_size=4, max_length=256, progress=False)
    collate = PairCollator(tok, 256)
    with torch.no_grad():
        for j in (0, 7, len(pairs) - 1):
            batch = collate([pairs[j]])
            rewards = compute_rewards(model, batch["input_ids"], batch["attention_mask"])
            assert torch.allclose(rewards[0], c[j], atol=1e-5)
            assert torch.allclose(rewards[1], r[j], atol=1e-5)


@pytest.mark.parametrize("padding", ["longest", "max_length"])
def test_baseline_paddings_give_the_same_rewards(tiny_rm, pairs, padding):
    model, tok = tiny_rm
    c, r = score_pairs(model, tok, pairs, batch_size=4, max_length=256, progress=False)
    c2, r2 = score_pairs(
        model, tok, pairs, batch_size=4, max_length=256, padding=padding, progress=False
    )
    assert torch.allclose(c, c2, atol=1e-5) and torch.allclose(r, r2, atol=1e-5)


def test_restores_training_mode_and_runs_without_grad(tiny_rm, pairs):
    model, tok = tiny_rm
    model.train()
    try:
        c, _ = score_pairs(model, tok, pairs[:3], max_length=256, progress=False)
        assert model.training
        assert not c.requires_grad and c.dtype == torch.float32 and c.shape == (3,)
    finally:
        model.eval()


def test_overlength_and_bad_arguments_raise(tiny_rm, pairs):
    model, tok = tiny_rm
    with pytest.raises(ValueError, match="filter_overlength"):
        score_pairs(model, tok, pairs[:2], max_length=4, progress=False)
    with pytest.raises(ValueError, match="padding"):
        score_pairs(model, tok, pairs[:2], padding="shortest", progress=False)
    with pytest.raises(ValueError, match="prompts"):
        score_responses(model, tok, ["a", "b"], ["x"], progress=False)


def test_empty_input(tiny_rm):
    model, tok = tiny_rm
    c, r = score_pairs(model, tok, [], progress=False)
    assert c.shape == (0,) and r.shape == (0,)


def test_tokenizer_padding_reads_pad_id_and_side_and_rejects_missing_pad():
    from types import SimpleNamespace

    from applications.reward_models.modeling.scoring import tokenizer_padding

    assert tokenizer_padding(SimpleNamespace(pad_token_id=3, padding_side="left")) == (3, True)
    assert tokenizer_padding(SimpleNamespace(pad_token_id=0, padding_side="right")) == (0, False)
    with pytest.raises(ValueError, match="no pad token"):
        tokenizer_padding(SimpleNamespace(pad_token_id=None, padding_side="right"))


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_head_inputs_reproduce_the_rewards_through_the_head(tmp_path, arch) -> None:
    from applications.reward_models.modeling.reward_model import load_reward_model, reward_head
    from applications.reward_models.modeling.scoring import head_inputs, score_responses
    from applications.reward_models.testing import save_tiny_reward_model

    model, tok = load_reward_model(save_tiny_reward_model(str(tmp_path / arch), arch))
    prompts = ["hi there", "a longer prompt with several words", "x"]
    responses = ["ok", "a reply that is long enough to need padding", "y z"]
    z = head_inputs(model, tok, prompts, responses, batch_size=2, max_length=64)
    rewards = score_responses(model, tok, prompts, responses, 2, 64, progress=False)
    assert z.shape[0] == 3 and z.dtype == torch.float32
    torch.testing.assert_close(reward_head(model)(z).squeeze(-1), rewards, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="cannot fit in max_length=4"):
        head_inputs(model, tok, prompts, responses, max_length=4)
