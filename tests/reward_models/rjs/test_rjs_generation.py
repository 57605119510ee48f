from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from rjs_helpers import smol_tokenizer, tiny_policy

from applications.reward_models.rjs.generation import (
    GenerationConfig,
    SeededSampler,
    filter_logits,
    generate,
    row_seed,
)
from applications.reward_models.rjs.policy import encode_prompt, format_prompt

logits_rows = st.lists(st.integers(-2000, 2000), min_size=2, max_size=30, unique=True).map(
    lambda xs: torch.tensor([xs], dtype=torch.float32) / 100
)


@given(logits_rows, st.integers(1, 40))
def test_top_k_keeps_exactly_the_k_largest(scores, k):
    kept = torch.isfinite(filter_logits(scores, 1.0, k, 1.0))[0]
    k_eff = min(k, scores.shape[-1])
    assert int(kept.sum()) == k_eff
    assert set(torch.topk(scores[0], k_eff).indices.tolist()) == set(kept.nonzero()[:, 0].tolist())


@given(logits_rows, st.floats(0.01, 1.0))
def test_top_p_keeps_the_smallest_prefix_reaching_p(scores, p):
    kept = torch.isfinite(filter_logits(scores, 1.0, 0, p))[0]
    probs = scores[0].softmax(-1).double()
    order = probs.argsort(descending=True)
    n_kept = int(kept.sum())
    # Kept tokens are the most likely ones, and the nucleus is minimal: dropping its last token
    # would fall below p, while its mass reaches p (up to float tolerance).
    assert kept[order[:n_kept]].all()
    assert kept[order[0]]
    mass = probs[order[:n_kept]].sum()
    assert mass >= p - 1e-5 or n_kept == len(probs)
    assert probs[order[: n_kept - 1]].sum() < p + 1e-5


def test_temperature_scales_logits():
    scores = torch.tensor([[1.0, 2.0, 4.0]])
    assert torch.allclose(filter_logits(scores, 0.5, 0, 1.0), scores * 2)


def test_seeded_sampler_matches_distribution_and_is_row_independent():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    scores = probs.log().repeat(4000, 1)
    out = SeededSampler(list(range(4000)), 1.0, 0, 1.0)(None, scores)
    tokens = out.argmax(-1)
    assert torch.isfinite(out).sum(-1).eq(1).all()
    freq = torch.bincount(tokens, minlength=4).double() / 4000
    assert torch.allclose(freq, probs.double(), atol=0.03)
    # Row i's draw depends only on its seed, not on the other rows.
    alone = SeededSampler([17], 1.0, 0, 1.0)(None, scores[:1]).argmax(-1)
    assert alone.item() == tokens[17].item()


def test_seeded_sampler_rejects_row_mismatch():
    with pytest.raises(ValueError, match="rows"):
        SeededSampler([1, 2], 1.0, 0, 1.0)(None, torch.zeros(3, 5))


def test_row_seed_is_stable_and_distinct():
    assert row_seed(0, "p", 0) == row_seed(0, "p", 0)
    assert len({row_seed(0, "p", j) for j in range(50)}) == 50
    assert row_seed(0, "p", 0) != row_seed(1, "p", 0) != row_seed(0, "q", 0)


def test_chat_template_is_applied():
    tok = smol_tokenizer()
    text = format_prompt(tok, "Name a fruit.")
    assert "<|im_start|>user\nName a fruit.<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
    assert encode_prompt(tok, "Name a fruit.") == tok(text, add_special_tokens=False).input_ids


def test_generate_is_seeded_and_batch_independent():
    model, tok = tiny_policy()
    prompts = ["hi", "tell me a long story about dragons please", "x", "what is 2+2?"]
    seeds = [11, 12, 13, 14]
    cfg = GenerationConfig(max_new_tokens=6, batch_size=4)
    a = generate(model, tok, prompts, seeds, cfg)
    b = generate(
        model, tok, prompts[::-1], seeds[::-1], GenerationConfig(max_new_tokens=6, batch_size=3)
    )
    assert a == b[::-1]
    c = generate(model, tok, prompts, [21, 22, 23, 24], cfg)
    assert a != c
    assert all(g.num_tokens <= 6 for g in a)


def test_generate_greedy_and_stops_at_eos():
    model, tok = tiny_policy()
    head = torch.nn.Linear(16, len(tok))  # untied head whose bias makes EOS the argmax
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[tok.eos_token_id] = 10.0
    model.lm_head = head
    out = generate(model, tok, ["a", "bb"], [0, 1], GenerationConfig(temperature=0.0))
    assert all(g.finished and g.num_tokens == 1 and g.response == "" for g in out)


def test_generate_requires_left_padding():
    model, tok = tiny_policy()
    tok.padding_side = "right"
    try:
        with pytest.raises(ValueError, match="left"):
            generate(model, tok, ["a"], [0], GenerationConfig())
    finally:
        tok.padding_side = "left"


@pytest.mark.parametrize(
    "kwargs", [{"max_new_tokens": 0}, {"temperature": -1}, {"top_p": 0}, {"top_k": -1}]
)
def test_generation_config_validates(kwargs):
    with pytest.raises(ValueError):
        GenerationConfig(**kwargs)
