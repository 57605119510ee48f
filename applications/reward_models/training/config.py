"""Training configuration: the options of ``python -m applications.reward_models.train``.

One dataclass of typed fields with defaults (the transformers/TRL convention; the sources are
:mod:`.sources_config`'s, re-exported here); parsing, the ``--config file.yaml`` file and
per-option checks are :mod:`applications.reward_models.cli`'s.
Nested sections are dotted on the command line (``--more.ema_alpha 0.9``) and nested mappings in
the file. Choice lists: :mod:`.choices` (source kinds: :data:`.data.sources.SOURCE_KINDS`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from applications.reward_models.cli import (
    ConfigError,
    at_least,
    check_values,
    in_range,
    one_of,
    option,
    parse,
    positive,
)
from applications.reward_models.sections import MoreConfig
from applications.reward_models.training.choices import (
    MIXED_PRECISION,
    SCHEDULERS,
    SCHEMES,
    poolings,
)
from applications.reward_models.training.sources_config import (
    SourceConfig,
    check_sources,
    missing_local,
    parse_source,
)

__all__ = [
    "TrainConfig",
    "from_dict",
    "parse_args",
    "save_config",
    "usage",
]

PROG = "python -m applications.reward_models.train"
DESCRIPTION = "Train reward models (Single / MultiTask / MORE) on preference sources."


@dataclass
class TrainConfig:
    """Everything ``python -m applications.reward_models.train`` needs (see each help)."""

    # data
    sources: list[SourceConfig] = option(
        factory=list,
        parse=parse_source,
        metavar="NAME[:KIND[:PATH]]",
        help="preference sources (file: mappings with name/kind/path/...); "
        "empty: every simulator source",
    )
    simulator_seed: int = option(0, help="seed of the simulator (data), not of training")
    train_pairs_per_source: int = option(
        1000, help="simulator training pairs per source", check=positive
    )
    test_pairs_per_source: int = option(
        100, help="test pairs per source (0: every real one)", check=at_least(0)
    )
    resample_to: int | None = option(
        None, help="resample every source to this many pairs (paper 40000)", check=positive
    )
    max_length: int = option(192, help="token budget of prompt + response", check=positive)
    single_source: str | None = option(
        None, help="source of scheme single (null: the first source)"
    )
    # model
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
    # optimization
    scheme: str = option(
        "all",
        help="single, multitask, more or all (= multitask and more)",
        check=one_of(lambda: SCHEMES),
    )
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
    seed: int = option(0, help="training seed (head init, batch order)")
    more: MoreConfig = dataclasses.field(default_factory=MoreConfig)
    # output
    output_dir: str = option("outputs/reward_models", help="run folder (one subfolder per scheme)")
    save_steps: int = option(0, help="checkpoint every n steps (0: final only)", check=at_least(0))
    save_total_limit: int | None = option(
        2, help="keep at most n checkpoints (null: keep all)", check=at_least(1)
    )
    logging_steps: int = option(1, help="log every n steps", check=positive)
    resume: bool = option(False, help="continue from the latest checkpoint in output_dir/<scheme>")
    tensorboard: bool = option(False, help="write TensorBoard logs")
    eval_batch_size: int = option(64, help="test pairs per forward pass", check=positive)
    progress_bar: bool = option(True, help="show a progress bar")

    def schemes(self) -> list[str]:
        """The schemes to train, in order."""
        return ["multitask", "more"] if self.scheme == "all" else [self.scheme]

    def validate(self) -> TrainConfig:
        """Check every value (as :func:`.cli.parse` does) and the combinations; returns self.

        Raises:
            ConfigError: a value out of its range, gram strategy with an EMA, a duplicated or
                unknown source, a missing local path, an unknown single_source.
            ImportError: an optional package needed by the options is not installed.
        """
        check_values(self)
        self.more.check()
        check_sources(self.sources)
        names = [s.name for s in self.sources]
        single = self.scheme == "single" and self.single_source is not None
        if single and self.sources and self.single_source not in names:
            raise ConfigError(f"--single_source {self.single_source!r} is not one of {names}")
        if missing_local(self.model):
            raise ConfigError(f"--model: path {self.model!r} does not exist")
        _check_packages(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (YAML-serialisable)."""
        return dataclasses.asdict(self)


def _check_packages(config: TrainConfig) -> None:
    needs = [("tensorboard", "--tensorboard")] if config.tensorboard else []
    if config.model.strip().lower() == "smollm2" or config.model.endswith(".gguf"):
        needs.append(("gguf", f"--model {config.model!r} (a GGUF checkpoint)"))
    if config.more.hyperparameters().get("method") == "cvxpy":
        needs.append(("cvxpy", "--more.weighting_options method=cvxpy"))
    if any(s.path and s.path.endswith(".parquet") for s in config.sources):
        needs.append(("pyarrow", "a parquet source file"))
    for package, why in needs:
        if importlib.util.find_spec(package) is None:
            raise ImportError(
                f"{why} needs the optional package {package!r}: pip install {package}"
            )


def parse_args(argv: Sequence[str] | None = None) -> TrainConfig:
    """``[--config x.yaml] [--name value ...]`` (default ``sys.argv[1:]``) → checked config.

    Raises:
        ConfigError: a bad option (a ValueError; see :meth:`TrainConfig.validate`).
        ImportError: an optional package the options need is missing.
    """
    return parse(TrainConfig, argv, PROG, DESCRIPTION)


def from_dict(data: Mapping[str, Any]) -> TrainConfig:
    """A checked config from values given in code (nested mappings or dotted keys, Python
    values or text), exactly as if they came from a ``--config`` file."""
    return parse(TrainConfig, [], PROG, DESCRIPTION, data=_undot(data))


def _undot(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        node = out
        *parents, last = str(key).split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{key}: {part!r} is not a section")
        node[last] = value
    return out


def usage() -> str:
    """The ``--help`` text."""
    from applications.reward_models.cli import build_parser

    return build_parser(TrainConfig, PROG, DESCRIPTION).format_help()


def save_config(config: TrainConfig, path: str) -> None:
    """Write the resolved config as YAML (loadable again with ``--config``)."""
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config.to_dict(), f, sort_keys=False)
