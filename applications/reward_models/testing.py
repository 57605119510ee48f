"""Tiny randomly initialised reward models for tests, docs and smoke runs (seconds on a CPU).

They reuse the offline MiniLM tokenizer (WordPiece, 30 522 tokens) so the data pipeline is the
real one; only the network is small.
"""

from __future__ import annotations

import torch
from transformers import AutoTokenizer, BertConfig, LlamaConfig

from applications.reward_models.modeling.backbones import minilm_path
from applications.reward_models.modeling.reward_model import build_reward_model, ensure_pad_token


def tiny_bert_config(vocab_size: int = 30522, **overrides: int) -> BertConfig:
    """A 2-layer, 32-wide BERT config."""
    values = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 512,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }
    values.update(overrides)
    return BertConfig(**values)


def tiny_llama_config(vocab_size: int = 30522, pad_token_id: int = 0) -> LlamaConfig:
    """A 2-layer, 32-wide Llama config with ``pad_token_id`` set."""
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=pad_token_id,
    )


def save_tiny_reward_model(
    directory: str, kind: str = "bert", pooling: str = "auto", seed: int = 0
) -> str:
    """Write a tiny random reward model + the MiniLM tokenizer to ``directory``; returns it.

    ``kind`` is ``"bert"`` (encoder) or ``"llama"`` (decoder, left padding).
    """
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    ensure_pad_token(tokenizer)
    torch.manual_seed(seed)
    if kind == "bert":
        config = tiny_bert_config(tokenizer.vocab_size)
    elif kind == "llama":
        config = tiny_llama_config(tokenizer.vocab_size, tokenizer.pad_token_id)
        tokenizer.padding_side = "left"
    else:
        raise ValueError(f"kind must be 'bert' or 'llama', got {kind!r}")
    model = build_reward_model(config, pooling)
    model.config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
