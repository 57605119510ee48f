"""Test helpers of the RJS tests (unique module name: imported via the test directory).

The tiny models come from :mod:`applications.reward_models.testing`; only the RJS-specific
stand-ins live here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from applications.reward_models.testing import (
    save_tiny_policy,
    save_tiny_reward_model,
    smollm2_tokenizer,
    tiny_policy,
    tiny_reward_model,
)

__all__ = [
    "save_tiny_policy",
    "save_tiny_rm",
    "simple_encode",
    "smol_tokenizer",
    "tiny_policy",
    "tiny_rm",
]

smol_tokenizer = smollm2_tokenizer


def tiny_rm(seed: int = 0) -> tuple[Any, Any]:
    """A random 1-layer BERT reward model (num_labels=1) with MiniLM's tokenizer."""
    return tiny_reward_model("bert", "cls", seed, num_hidden_layers=1, hidden_size=16)


def save_tiny_rm(path: Path, seed: int = 0) -> Path:
    """:func:`tiny_rm` saved to ``path``."""
    save_tiny_reward_model(str(path), "bert", "cls", seed, num_hidden_layers=1, hidden_size=16)
    return path


def simple_encode(tokenizer: Any, prompt: str, response: str, max_length: int) -> list[int] | None:
    """Stand-in for data.collate.encode_prompt_response: None when the response does not fit."""
    ids = tokenizer(prompt, response, truncation=False).input_ids
    return None if len(ids) > max_length else ids
