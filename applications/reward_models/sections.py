"""The configuration sections every entry point composes, so each option exists once.

* :class:`ModelConfig`: the reward model to build (backbone, pooling, trainable blocks, ...);
* :class:`ScoringConfig`: how pairs become model inputs (``max_length``) and how many are scored
  per forward pass — one default for train, evaluate, reproduce and RJS, so a model is scored
  as it was trained;
* :class:`OptimConfig`: the optimizer, schedule, steps and batch (AdamW, as TRL's defaults
  name them);
* :class:`MoreConfig`: MORE's weighting (method, hyperparameters, subspace, normalizer, EMA,
  ``lambda_pairs``).

The data sections are :mod:`.data`'s (:class:`~.data.split_config.SplitConfig`,
:class:`~.data.source_spec.SourceSpec`). A job's config inherits the flat sections (TRL's
convention: ``RewardConfig(TrainingArguments)``), so flags keep their names (``--max_length``),
and nests ``more`` (``--more.weighting``).

Parsing these imports no torch: choice lists that live in torch modules are read lazily, when a
value is checked (:func:`~.cli.one_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from applications.reward_models.choices import (
    MIXED_PRECISION,
    SCHEDULERS,
    STRATEGIES,
    SUBSPACES,
    normalizers,
    poolings,
    weighting_option,
    weightings,
)
from applications.reward_models.cli import (
    ConfigError,
    at_least,
    in_range,
    one_of,
    option,
    positive,
)

__all__ = ["ModelConfig", "MoreConfig", "OptimConfig", "ScoringConfig"]


@dataclass(kw_only=True)
class ModelConfig:
    """The reward model: a backbone with a scalar head."""

    model: str = option("minilm", help="minilm, smollm2, a local directory or a hub id")
    pooling: str = option("auto", help="auto, cls, mean or last", check=one_of(poolings))
    dropout: bool = option(False, help="keep the backbone's dropout")
    gradient_checkpointing: bool = option(False, help="trade compute for memory")
    trainable_blocks: int | None = option(
        2,
        help="fine-tune only the last n blocks (+ head); null: full fine-tuning",
        check=positive,
    )
    trust_remote_code: bool = option(
        False, help="allow model code from the checkpoint's repository (only if you trust it)"
    )


@dataclass(kw_only=True)
class ScoringConfig:
    """How preference pairs are tokenized and scored."""

    max_length: int = option(192, help="token budget of prompt + response", check=positive)
    eval_batch_size: int = option(64, help="pairs per scoring forward pass", check=positive)


@dataclass(kw_only=True)
class OptimConfig:
    """Steps, batch and AdamW with a warmup schedule."""

    pairs_per_source: int = option(4, help="m: a step holds K x m pairs", check=positive)
    max_steps: int = option(100, help="optimizer steps", check=positive)
    learning_rate: float = option(5e-4, help="AdamW learning rate", check=positive)
    weight_decay: float = option(0.0, help="AdamW weight decay", check=at_least(0))
    warmup_ratio: float = option(0.1, help="fraction of steps of LR warmup", check=in_range(0, 1))
    lr_scheduler_type: str = option("linear", help="LR schedule", check=one_of(lambda: SCHEDULERS))
    adam_beta1: float = option(0.9, help="AdamW beta1", check=in_range(0, 1, open_high=True))
    adam_beta2: float = option(0.999, help="AdamW beta2", check=in_range(0, 1, open_high=True))
    adam_epsilon: float = option(1e-8, help="AdamW epsilon", check=positive)
    max_grad_norm: float = option(
        1.0, help="gradient clipping norm (0 disables)", check=at_least(0)
    )
    gradient_accumulation_steps: int = option(1, help="micro-batches per step", check=positive)
    mixed_precision: str = option(
        "no", help="no, bf16 or fp16", check=one_of(lambda: MIXED_PRECISION)
    )


@dataclass
class MoreConfig:
    """MORE's weighting options (defaults = the paper's launch configuration: MGDA's exact
    min-norm λ on the reward head's L2-normalised gradients, EMA 0.99)."""

    weighting: str = option(
        "mgda",
        help="how lambda is computed from the sources' gradients (mgda: the paper's min-norm)",
        check=one_of(weightings),
    )
    weighting_options: dict[str, Any] = option(
        factory=dict,
        parse=weighting_option,
        metavar="KEY=VALUE",
        help="hyperparameters of the weighting (mgda: method=exact|frank_wolfe|...; cagrad: c=0.4)",
    )
    subspace: str = option(
        "head",
        help="gradients for the weighting: head, last_blocks or all",
        check=one_of(lambda: SUBSPACES),
    )
    last_n_blocks: int = option(1, help="blocks used by subspace last_blocks", check=positive)
    normalizer: str = option(
        "l2",
        help="per-source gradient normalization before the solve (l2: paper)",
        check=one_of(normalizers),
    )
    ema_alpha: float | None = option(
        0.99,
        help="EMA weight of the NEW per-source gradient (paper 0.99); null disables",
        check=in_range(0, 1),
    )
    strategy: str = option(
        "autograd",
        help="autograd (one backward per source) or gram",
        check=one_of(lambda: STRATEGIES),
    )
    scale_by_num_objectives: bool = option(False, help="train on K sum_i l_i L_i")
    lambda_pairs: int | None = option(
        None,
        help="pairs per source whose gradients set lambda (null: all; 1: the official code)",
        check=positive,
    )

    def hyperparameters(self) -> dict[str, Any]:
        """``weighting_options`` with each value typed (``"0.5"`` → 0.5, ``"null"`` → None)."""
        return {k: weighting_option((k, v))[1] for k, v in self.weighting_options.items()}

    def check(self) -> None:
        """Raise :class:`~.cli.ConfigError` on options that cannot go together.

        Raises:
            ConfigError: an EMA with the ``gram`` strategy, or hyperparameters the weighting does
                not take (naming them).
        """
        if self.strategy == "gram" and self.ema_alpha not in (None, 0.0, 1.0):
            raise ConfigError(
                "--more.strategy gram keeps no per-source gradient vectors, so it cannot smooth "
                "them: set --more.ema_alpha null (or use --more.strategy autograd)"
            )
        from mooptim.weightings import weighting_from_name

        try:
            weighting_from_name(self.weighting, **self.hyperparameters())
        except (TypeError, ValueError) as error:
            raise ConfigError(f"--more.weighting_options: {error}") from None
