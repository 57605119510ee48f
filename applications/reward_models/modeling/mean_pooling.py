"""Mean-pooling reward model: any Hugging Face backbone + masked mean over tokens + scalar head.

Loading a saved one needs no remote code: importing this module registers the classes with
transformers' ``AutoConfig`` / ``AutoModelForSequenceClassification`` (model type
``mean_pooling_reward``), which is what
:func:`~applications.reward_models.modeling.reward_model.load_reward_model` relies on. The file is
also self-contained (imports only torch and transformers) and ``save_pretrained`` copies it next to
the checkpoint (``register_for_auto_class``), so that code outside this package that trusts it can
rebuild the model with ``AutoModelForSequenceClassification.from_pretrained(dir,
trust_remote_code=True)``.

Reward: r(x) = w · (Σ_t m_t h_t / Σ_t m_t) + b, with h_t the backbone's last hidden states and m_t
the attention mask (pad tokens excluded, so left and right padding give the same reward).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import SequenceClassifierOutput


class MeanPoolingRewardConfig(PretrainedConfig):
    """Config of :class:`MeanPoolingRewardModel`: the backbone's config stored as a dict."""

    model_type = "mean_pooling_reward"

    def __init__(self, backbone_config: dict | PretrainedConfig | None = None, **kwargs) -> None:
        if isinstance(backbone_config, PretrainedConfig):
            backbone_config = backbone_config.to_dict()
        self.backbone_config = dict(backbone_config or {})
        kwargs.setdefault("num_labels", 1)
        super().__init__(**kwargs)

    def build_backbone_config(self) -> PretrainedConfig:
        """Rebuild the backbone's ``PretrainedConfig`` from the stored dict."""
        values = dict(self.backbone_config)
        model_type = values.pop("model_type", None)
        if model_type is None:
            raise ValueError("backbone_config has no model_type")
        return AutoConfig.for_model(model_type, **values)


class MeanPoolingRewardModel(PreTrainedModel):
    """Backbone (``AutoModel``) + masked mean pooling + ``score = Linear(hidden, num_labels)``."""

    config_class = MeanPoolingRewardConfig
    base_model_prefix = "backbone"
    supports_gradient_checkpointing = True

    def __init__(self, config: MeanPoolingRewardConfig) -> None:
        super().__init__(config)
        self.backbone = AutoModel.from_config(config.build_backbone_config())
        hidden = self.backbone.config.hidden_size
        self.score = nn.Linear(hidden, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is getattr(self, "score", None):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput:
        kwargs.pop("return_dict", None)
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        hidden = out.last_hidden_state
        if attention_mask is None:
            mask = torch.ones(hidden.shape[:2], dtype=hidden.dtype, device=hidden.device)
        else:
            mask = attention_mask.to(hidden.dtype)
        mask = mask.unsqueeze(-1)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
        logits = self.score(pooled)
        loss = None
        if labels is not None:
            loss = nn.functional.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
        return SequenceClassifierOutput(loss=loss, logits=logits)


MeanPoolingRewardConfig.register_for_auto_class()
MeanPoolingRewardModel.register_for_auto_class("AutoModelForSequenceClassification")
AutoConfig.register(MeanPoolingRewardConfig.model_type, MeanPoolingRewardConfig, exist_ok=True)
AutoModelForSequenceClassification.register(
    MeanPoolingRewardConfig, MeanPoolingRewardModel, exist_ok=True
)
