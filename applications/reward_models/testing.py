"""Tiny randomly initialised models for tests, docs and smoke runs (seconds on a CPU).

Reward models reuse the offline MiniLM tokenizer (WordPiece, 30 522 tokens) and policies the
offline SmolLM2 tokenizer (49 152 tokens), so the data pipeline is the real one; only the networks
are small. Public so that tests, docs and downstream code share one set of builders::

    model, tokenizer = tiny_reward_model("bert")          # encoder, CLS pooling
    path = save_tiny_reward_model(tmp_dir, "llama")       # decoder, left padding, on disk
    policy, policy_tokenizer = tiny_policy()              # 2-layer Llama causal LM
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, BertConfig, LlamaConfig

from applications.reward_models.modeling.backbones import (
    ensure_pad_token,
    minilm_path,
    smollm2_path,
)
from applications.reward_models.modeling.reward_model import build_reward_model

__all__ = [
    "minilm_tokenizer",
    "save_tiny_policy",
    "save_tiny_reward_model",
    "smollm2_tokenizer",
    "tiny_bert_config",
    "tiny_llama_config",
    "tiny_policy",
    "tiny_reward_model",
]


def tiny_bert_config(vocab_size: int = 30522, **overrides: Any) -> BertConfig:
    """A 2-layer, 32-wide BERT config without dropout (``overrides`` replace any field)."""
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


def tiny_llama_config(
    vocab_size: int = 30522, pad_token_id: int = 0, **overrides: Any
) -> LlamaConfig:
    """A 2-layer, 32-wide Llama config with ``pad_token_id`` set (``overrides`` replace fields)."""
    values = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "max_position_embeddings": 512,
        "pad_token_id": pad_token_id,
    }
    values.update(overrides)
    return LlamaConfig(**values)


def minilm_tokenizer() -> Any:
    """A fresh MiniLM tokenizer (right padding, ``[PAD]``); raises if the package is missing."""
    return ensure_pad_token(AutoTokenizer.from_pretrained(minilm_path()))


@functools.lru_cache(maxsize=1)
def smollm2_tokenizer() -> Any:
    """SmolLM2's tokenizer with left padding and a pad token, loaded once per process.

    Reading it from the GGUF file takes ~10 s, so the first process saves it as a regular tokenizer
    directory in the temp dir (atomic rename; parallel test workers may race) and later loads take
    ~0.5 s. Shared: do not modify it.
    """
    import transformers

    from applications.reward_models.rjs.policy import prepare_tokenizer

    cache = Path(tempfile.gettempdir()) / f"mooptim-smollm2-tok-{transformers.__version__}"
    if (cache / "tokenizer_config.json").is_file():
        return prepare_tokenizer(AutoTokenizer.from_pretrained(cache))
    directory, gguf = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf)
    tmp = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
    tokenizer.save_pretrained(tmp)
    try:
        os.rename(tmp, cache)
    except OSError:  # another worker won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return prepare_tokenizer(tokenizer)


def tiny_reward_model(
    kind: str = "bert", pooling: str = "auto", seed: int = 0, **overrides: Any
) -> tuple[Any, Any]:
    """``(model, tokenizer)``: a tiny random reward model in eval mode and a MiniLM tokenizer.

    ``kind`` is ``"bert"`` (encoder) or ``"llama"`` (decoder; the tokenizer pads on the left).
    ``overrides`` change the config (e.g. ``num_hidden_layers=1``, ``initializer_range=0.5``).
    """
    tokenizer = minilm_tokenizer()
    if kind == "bert":
        config = tiny_bert_config(tokenizer.vocab_size, **overrides)
    elif kind == "llama":
        config = tiny_llama_config(tokenizer.vocab_size, tokenizer.pad_token_id, **overrides)
        tokenizer.padding_side = "left"
    else:
        raise ValueError(f"kind must be 'bert' or 'llama', got {kind!r}")
    torch.manual_seed(seed)
    model = build_reward_model(config, pooling)  # type: ignore[arg-type]
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer


def save_tiny_reward_model(
    directory: str, kind: str = "bert", pooling: str = "auto", seed: int = 0, **overrides: Any
) -> str:
    """Write :func:`tiny_reward_model` (model + tokenizer) to ``directory``; returns it."""
    model, tokenizer = tiny_reward_model(kind, pooling, seed, **overrides)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def tiny_policy(seed: int = 0) -> tuple[Any, Any]:
    """A random 2-layer, 16-wide Llama causal LM with SmolLM2's tokenizer, in eval mode."""
    from transformers import LlamaForCausalLM

    tokenizer = smollm2_tokenizer()
    config = tiny_llama_config(
        len(tokenizer),
        tokenizer.pad_token_id,
        hidden_size=16,
        intermediate_size=32,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval(), tokenizer


def save_tiny_policy(directory: str | os.PathLike[str], seed: int = 0) -> Path:
    """Write :func:`tiny_policy` (model + tokenizer) to ``directory``; returns it."""
    model, tokenizer = tiny_policy(seed)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return Path(directory)
