"""``MoreRewardConfig``: TRL's ``RewardConfig`` plus MORE's options, TRL's convention for a job.

One dataclass holds every option of a :class:`~.trl.MoreRewardTrainer` run, so
``TrlParser``/``HfArgumentParser`` (``--config run.yaml`` or flags) set them, the trainer saves
them with the run (``training_args.bin``) and the model card records them. The MORE fields are
:class:`~applications.reward_models.sections.MoreConfig`'s, prefixed ``more_`` (HfArgumentParser
has no nested sections); their defaults and help are read from it, so each exists once.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from trl import RewardConfig

from applications.reward_models.sections import MoreConfig

__all__ = ["MoreRewardConfig", "more_config"]

_DEFAULT = MoreConfig()


def _more_field(name: str) -> Any:
    source = {f.name: f for f in dataclasses.fields(MoreConfig)}[name]
    help_text = f"MORE: {source.metadata['help']}"
    if source.default_factory is not dataclasses.MISSING:
        return field(default=None, metadata={"help": help_text + " (a JSON mapping)"})
    return field(default=getattr(_DEFAULT, name), metadata={"help": help_text})


@dataclass
class MoreRewardConfig(RewardConfig):
    """``trl.RewardConfig`` with MORE's options (``more_<name>`` = ``MoreConfig.<name>``).

    ``per_device_train_batch_size`` must be K·m (m pairs of each of the K sources);
    ``data_seed`` (else ``seed``) seeds the balanced sampler.
    """

    more_weighting: str = _more_field("weighting")
    more_weighting_options: dict[str, Any] | str | None = _more_field(  # noqa: RUF009
        "weighting_options"
    )
    more_subspace: str = _more_field("subspace")
    more_last_n_blocks: int = _more_field("last_n_blocks")
    more_normalizer: str = _more_field("normalizer")
    more_ema_alpha: float | None = _more_field("ema_alpha")
    more_strategy: str = _more_field("strategy")
    more_scale_by_num_objectives: bool = _more_field("scale_by_num_objectives")
    more_lambda_pairs: int | None = _more_field("lambda_pairs")
    more_resample_to: int | None = field(
        default=None,
        metadata={"help": "MORE: pairs per source per epoch (default the largest source's size)"},
    )

    def __post_init__(self) -> None:
        if isinstance(self.more_weighting_options, str):
            self.more_weighting_options = json.loads(
                self.more_weighting_options, object_pairs_hook=_unique_options
            )
        super().__post_init__()

    @property
    def more(self) -> MoreConfig:
        """The MORE section these fields describe."""
        return more_config(self)


def _unique_options(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object of ``more_weighting_options`` as a dict; a key given twice is an error naming
    it and both values (``json.loads`` keeps the last one silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(
                f"more_weighting_options: key {key!r} given twice ({out[key]!r} and {value!r})"
            )
        out[key] = value
    return out


def more_config(args: Any) -> MoreConfig:
    """The :class:`MoreConfig` of ``args`` (a :class:`MoreRewardConfig`; the paper's defaults
    for a plain ``RewardConfig``), checked as the training CLI checks ``--more.*``.

    Raises:
        ConfigError: a bad MORE option, named as ``more.<field>``.
    """
    from applications.reward_models.cli import check_values

    if not isinstance(args, MoreRewardConfig):
        return MoreConfig()
    values = {f.name: getattr(args, f"more_{f.name}") for f in dataclasses.fields(MoreConfig)}
    values["weighting_options"] = dict(values["weighting_options"] or {})
    more = MoreConfig(**values)
    check_values(_Holder(more))
    more.check()
    return more


@dataclass
class _Holder:
    """Lets :func:`check_values` name the options ``more.<field>``, as the CLI does."""

    more: MoreConfig
