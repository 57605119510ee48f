"""Reward models: a Hugging Face backbone with a scalar head, r(x, y) ∈ ℝ.

Pooling (how one vector per sequence is chosen before the head ``Linear(hidden, 1)``):

* ``"cls"`` (encoders): the architecture's own sequence-classification class, e.g.
  ``BertForSequenceClassification`` (first token → pooler dense + tanh → dropout → classifier).
* ``"mean"`` (encoders or decoders): masked mean of the last hidden states
  (:class:`~applications.reward_models.modeling.mean_pooling.MeanPoolingRewardModel`; a saved one
  reloads through :func:`load_reward_model` without remote code).
* ``"last"`` (decoders, the paper's pooling): the architecture's own class, e.g.
  ``LlamaForSequenceClassification``, which scores the right-most token that is not
  ``pad_token_id`` — correct for left and right padding as long as the pad token does not occur
  inside the text (we set a pad token when the tokenizer has none, preferring a token other than
  EOS).

Checkpoints are standard ``save_pretrained`` directories (``num_labels = 1``) with the tokenizer.
Loading never runs code shipped with a checkpoint unless ``trust_remote_code=True`` is passed
(see :mod:`~applications.reward_models.modeling.backbones`).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from transformers import (
    AutoModel,
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from applications.reward_models.modeling.backbones import (
    ensure_pad_token,
    load_config,
    load_pretrained,
    load_tokenizer,
)
from applications.reward_models.modeling.mean_pooling import (
    MeanPoolingRewardConfig,
    MeanPoolingRewardModel,
)

__all__ = [
    "POOLINGS",
    "build_reward_model",
    "compute_rewards",
    "disable_dropout",
    "ensure_pad_token",
    "freeze_below",
    "is_decoder_config",
    "load_reward_model",
    "load_tokenizer",
    "pair_rewards",
    "resolve_pooling",
    "reward_head",
    "transformer_blocks",
]

Pooling = Literal["auto", "cls", "mean", "last"]
POOLINGS = ("auto", "cls", "mean", "last")


def is_decoder_config(config: PretrainedConfig) -> bool:
    """True for causal (decoder-only) language-model configs, judged by the registered classes."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if getattr(config, "is_encoder_decoder", False):
        return False
    archs = getattr(config, "architectures", None) or []
    if any(a.endswith("ForCausalLM") for a in archs):
        return True
    if any(a.endswith(("ForMaskedLM", "Model", "ForPreTraining")) for a in archs):
        return False
    # Encoders such as BERT are also registered for causal LM (is_decoder=True); trust the flag.
    return config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and config.model_type not in {
        "bert",
        "roberta",
        "xlm-roberta",
        "electra",
        "ernie",
        "camembert",
        "data2vec-text",
    }


def resolve_pooling(config: PretrainedConfig, pooling: str) -> str:
    """Map ``"auto"`` to ``"last"`` for decoders and ``"cls"`` for encoders; validate the rest.

    Raises:
        ValueError: unknown pooling, ``"last"`` on an encoder, or ``"cls"`` on a decoder.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; expected one of {POOLINGS}")
    if isinstance(config, MeanPoolingRewardConfig):
        return "mean"
    decoder = is_decoder_config(config)
    if pooling == "auto":
        return "last" if decoder else "cls"
    if pooling == "last" and not decoder:
        raise ValueError(f"pooling='last' needs a decoder; {config.model_type!r} is an encoder")
    if pooling == "cls" and decoder:
        raise ValueError(f"pooling='cls' needs an encoder; {config.model_type!r} is a decoder")
    return pooling


def disable_dropout(model: nn.Module) -> int:
    """Set p = 0 in every dropout module (like TRL's ``disable_dropout``); returns the count."""
    changed = 0
    for module in model.modules():
        if isinstance(module, nn.Dropout) and module.p != 0.0:
            module.p = 0.0
            changed += 1
    return changed


def build_reward_model(config: PretrainedConfig, pooling: Pooling = "auto") -> PreTrainedModel:
    """A randomly initialised reward model for a backbone config (tests, from-scratch training)."""
    pooling = resolve_pooling(config, pooling)
    if pooling == "mean":
        return MeanPoolingRewardModel(MeanPoolingRewardConfig(config))
    config.num_labels = 1
    return AutoModelForSequenceClassification.from_config(config)


def load_reward_model(
    name: str,
    pooling: Pooling = "auto",
    *,
    dropout: bool = False,
    dtype: torch.dtype = torch.float32,
    trust_remote_code: bool = False,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a backbone (or a saved reward model) with a scalar reward head, and its tokenizer.

    Args:
        name: ``"minilm"``, ``"smollm2"``, a local directory / ``.gguf`` file, or a hub id.
        pooling: ``"auto"`` (decoder → ``"last"``, encoder → ``"cls"``), ``"cls"``, ``"mean"``,
            ``"last"``. A saved mean-pooling reward model is reloaded as such (no remote code).
        dropout: keep the backbone's dropout; by default it is disabled, as in TRL's reward
            trainer, so that chosen and rejected see the same network.
        dtype: parameter dtype (mixed precision is applied by accelerate on top of float32).
        trust_remote_code: run Python code shipped with the checkpoint (off by default).

    Returns:
        ``(model, tokenizer)`` with ``model.config.num_labels == 1`` and
        ``model.config.pad_token_id == tokenizer.pad_token_id``.

    Raises:
        ValueError: bad name/path or pooling (see :func:`resolve_pooling`);
            ``RemoteCodeError`` (a ValueError) when the checkpoint needs its own code.
    """
    trust = {"trust_remote_code": trust_remote_code}
    tokenizer = load_tokenizer(name, **trust)
    config = load_config(name, **trust)
    resolved = resolve_pooling(config, pooling)
    if resolved == "mean" and not isinstance(config, MeanPoolingRewardConfig):
        backbone = load_pretrained(AutoModel, name, dtype=dtype, **trust)
        model = MeanPoolingRewardModel(MeanPoolingRewardConfig(backbone.config)).to(dtype)
        model.backbone = backbone
    else:
        model = load_pretrained(
            AutoModelForSequenceClassification, name, num_labels=1, dtype=dtype, **trust
        )
    model.config.pad_token_id = tokenizer.pad_token_id
    if isinstance(model, MeanPoolingRewardModel):
        model.backbone.config.pad_token_id = tokenizer.pad_token_id
    if not dropout:
        disable_dropout(model)
    return model, tokenizer


def reward_head(model: nn.Module) -> nn.Module:
    """The final scalar ``Linear`` on the logits path, found structurally.

    Candidates are ``nn.Linear`` modules with ``out_features == 1``. With a single candidate it is
    returned; with several, a one-token forward pass with hooks picks the last candidate executed
    (the one producing the logits).

    Raises:
        ValueError: the model has no ``Linear(·, 1)`` module.
    """
    candidates = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == 1]
    if not candidates:
        raise ValueError(f"{type(model).__name__} has no Linear layer with out_features == 1")
    if len(candidates) == 1:
        return candidates[0]
    order: list[nn.Module] = []
    hooks = [c.register_forward_hook(lambda mod, _i, _o: order.append(mod)) for c in candidates]
    try:
        device = next(model.parameters()).device
        ids = torch.zeros(1, 1, dtype=torch.long, device=device)
        with torch.no_grad():
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
    finally:
        for hook in hooks:
            hook.remove()
    return order[-1] if order else candidates[-1]


def compute_rewards(
    model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """Scalar rewards ``[N]`` of ``N`` tokenized sequences in one forward pass (float32)."""
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
    if logits.shape[-1] != 1:
        raise ValueError(f"reward model must have num_labels=1, got logits {tuple(logits.shape)}")
    return logits.squeeze(-1).float()


def pair_rewards(
    model: nn.Module, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(r_chosen [B], r_rejected [B])`` of a PairCollator batch (chosen rows first)."""
    rewards = compute_rewards(model, batch["input_ids"], batch["attention_mask"])
    half = rewards.shape[0] // 2
    return rewards[:half], rewards[half:]


def transformer_blocks(model: nn.Module) -> nn.ModuleList:
    """The backbone's stack of transformer blocks: the ``nn.ModuleList`` holding most parameters.

    Raises:
        ValueError: the model has no ``nn.ModuleList``.
    """
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) > 0]
    if not lists:
        raise ValueError(f"{type(model).__name__} has no nn.ModuleList of transformer blocks")
    return max(lists, key=lambda m: sum(p.numel() for p in m.parameters()))


def freeze_below(model: nn.Module, trainable_blocks: int) -> int:
    """Freeze every parameter that comes before the last ``trainable_blocks`` blocks.

    Parameters are visited in registration order (embeddings, blocks, final norm / pooler, head),
    so the embeddings and the first ``L − n`` blocks are frozen and the rest stays trainable.
    Returns the number of frozen parameter elements.

    Raises:
        ValueError: ``trainable_blocks`` outside ``1..L``.
    """
    blocks = transformer_blocks(model)
    if not 1 <= trainable_blocks <= len(blocks):
        raise ValueError(f"trainable_blocks={trainable_blocks} not in 1..{len(blocks)}")
    first_trainable = {id(p) for p in blocks[len(blocks) - trainable_blocks].parameters()}
    frozen = 0
    for p in model.parameters():
        if id(p) in first_trainable:
            break
        p.requires_grad_(False)
        frozen += p.numel()
    return frozen
