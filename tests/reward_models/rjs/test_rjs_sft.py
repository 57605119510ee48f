from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from rjs_helpers import tiny_policy

from applications.reward_models.rjs.policy import encode_prompt, load_policy
from applications.reward_models.rjs.ppl import perplexity
from applications.reward_models.rjs.sft import (
    IGNORE_INDEX,
    SFTConfig,
    build_sft_example,
    collate_sft,
    finetune,
    response_nll,
    save_policy,
)


def test_example_masks_exactly_the_prompt():
    _, tok = tiny_policy()
    ex = build_sft_example(tok, "What is tea?", "A drink.", max_length=512)
    prompt_ids = encode_prompt(tok, "What is tea?")
    response_ids = tok("A drink.<|im_end|>", add_special_tokens=False).input_ids
    assert ex.input_ids == prompt_ids + response_ids
    assert ex.labels == [IGNORE_INDEX] * len(prompt_ids) + response_ids
    assert ex.labels[-1] == tok.eos_token_id  # the policy learns to stop
    # A response cut by max_new_tokens gets no EOS: stopping there is not what we want to teach.
    cut = build_sft_example(tok, "What is tea?", "A drink.", max_length=512, add_eos=False)
    assert cut.input_ids == prompt_ids + response_ids[:-1]
    assert cut.labels[-1] != tok.eos_token_id


def test_example_truncates_response_and_drops_when_prompt_fills_the_window():
    _, tok = tiny_policy()
    n_prompt = len(encode_prompt(tok, "Q?"))
    ex = build_sft_example(tok, "Q?", "word " * 50, max_length=n_prompt + 3)
    assert len(ex.input_ids) == n_prompt + 3
    assert sum(lab != IGNORE_INDEX for lab in ex.labels) == 3
    assert build_sft_example(tok, "Q?", "word", max_length=n_prompt) is None


def test_collate_masks_padding_by_position_even_when_pad_equals_eos():
    _, tok = tiny_policy()
    assert tok.pad_token_id == tok.eos_token_id  # SmolLM2: the case where id-based masking fails
    a = build_sft_example(tok, "Hi", "Hello there friend.", 512)
    b = build_sft_example(tok, "Hi", "Yo", 512)
    batch = collate_sft([a, b], tok.pad_token_id)
    n_b = len(b.input_ids)
    assert batch["input_ids"].shape == (2, len(a.input_ids))
    assert batch["labels"][1, :n_b].tolist() == b.labels
    assert (batch["labels"][1, n_b:] == IGNORE_INDEX).all()
    assert (batch["attention_mask"][1, n_b:] == 0).all() and (
        batch["attention_mask"][1, :n_b] == 1
    ).all()
    assert batch["labels"][1, n_b - 1] == tok.eos_token_id  # the real EOS keeps its label


def test_response_nll_counts_response_tokens_only():
    model, tok = tiny_policy()
    a = build_sft_example(tok, "Hi", "Hello there friend.", 512)
    b = build_sft_example(tok, "Tell me", "Yo", 512)
    nll, count = response_nll(model, collate_sft([a, b], tok.pad_token_id))
    ref_nll, ref_count = 0.0, 0
    for ex in (a, b):  # unpadded, one at a time
        logits = model(input_ids=torch.tensor([ex.input_ids])).logits[0, :-1]
        labels = torch.tensor(ex.labels[1:])
        keep = labels != IGNORE_INDEX
        ref_nll += F.cross_entropy(logits[keep], labels[keep], reduction="sum").item()
        ref_count += int(keep.sum())
    assert int(count) == ref_count == sum(lab != IGNORE_INDEX for lab in a.labels + b.labels)
    assert nll.item() == pytest.approx(ref_nll, rel=1e-4)
    # Changing a prompt token changes the loss only through conditioning, never as a target:
    # a model whose loss ignores labels at prompt positions gives the same count for any prompt.
    c = build_sft_example(tok, "Tell me more and more", "Yo", 512)
    _, count_c = response_nll(model, collate_sft([c], tok.pad_token_id))
    assert int(count_c) == sum(lab != IGNORE_INDEX for lab in b.labels)


def test_perplexity_is_exp_of_token_mean_nll():
    model, tok = tiny_policy()
    pairs = [("Hi", "Hello there friend."), ("Tell me", "Yo"), ("Q", "A long answer " * 3)]
    res = perplexity(model, tok, pairs, batch_size=2)
    examples = [build_sft_example(tok, p, r, 512) for p, r in pairs]
    nll, count = response_nll(model, collate_sft(examples, tok.pad_token_id))
    assert res.tokens == int(count) and res.examples == 3 and res.dropped_too_long == 0
    assert res.ppl == pytest.approx(math.exp(nll.item() / int(count)), rel=1e-4)
    # A random model over 49k tokens is close to uniform.
    assert 0.2 * len(tok) < res.ppl < 5 * len(tok)
    with pytest.raises(ValueError, match="fits"):
        perplexity(model, tok, [("Q" * 50, "A")], max_length=3)


def test_finetune_lowers_the_loss_and_saved_policy_reloads(tmp_path):
    model, tok = tiny_policy()
    pairs = [("Say hi", "hi hi hi"), ("Say yo", "yo yo yo")] * 2
    before = perplexity(model, tok, pairs).nll_per_token
    cfg = SFTConfig(learning_rate=3e-2, batch_size=2, epochs=5, max_steps=8)
    stats = finetune(model, tok, pairs, cfg)
    assert stats.steps == 8 and stats.examples == 4 and len(stats.losses) == 8
    after = perplexity(model, tok, pairs).nll_per_token
    assert after < before - 0.5
    save_policy(model, tok, tmp_path / "policy", stats)
    reloaded, tok2 = load_policy(str(tmp_path / "policy"))
    assert tok2.padding_side == "left"
    assert (tmp_path / "policy" / "sft_stats.json").is_file()
    assert not (tmp_path / "policy.tmp").exists()
    ids = torch.tensor([build_sft_example(tok, "Say hi", "hi", 64).input_ids])
    with torch.no_grad():
        assert torch.allclose(
            model(input_ids=ids).logits, reloaded(input_ids=ids).logits, atol=1e-5
        )


def test_finetune_counts_drops_and_fails_when_nothing_fits():
    model, tok = tiny_policy()
    n = len(encode_prompt(tok, "Q"))
    with pytest.raises(ValueError, match="no SFT example"):
        finetune(model, tok, [("Q", "A")], SFTConfig(max_length=n))
    stats = finetune(model, tok, [("Q", "A"), ("Q " * 30, "A")], SFTConfig(max_length=n + 5))
    assert stats.examples == 1 and stats.examples_dropped_too_long == 1
    with pytest.raises(ValueError, match="add_eos"):
        finetune(model, tok, [("Q", "A")], SFTConfig(), add_eos=[True, False])


def test_forget_gguf_quantization_makes_a_gguf_loaded_model_saveable(tmp_path):
    from transformers.quantizers.quantizer_gguf import GgufHfQuantizer
    from transformers.utils.quantization_config import GgufConfig

    from applications.reward_models.rjs.policy import forget_gguf_quantization

    model, _ = tiny_policy()
    # What from_pretrained(..., gguf_file=...) leaves behind on de-quantized float weights.
    model.config.quantization_config = GgufConfig()
    model.hf_quantizer = GgufHfQuantizer(GgufConfig())
    with pytest.raises(ValueError, match="not serializable"):
        model.save_pretrained(tmp_path / "before")
    forget_gguf_quantization(model)
    model.save_pretrained(tmp_path / "after")
    assert "quantization_config" not in (tmp_path / "after" / "config.json").read_text()
