"""Training configuration: the options of ``python -m applications.reward_models.train``.

One dataclass of typed fields with defaults (the transformers/TRL convention), composed of the
shared sections (:mod:`..sections`, :mod:`..data.split_config`; sources:
:class:`~..data.source_spec.SourceSpec`); parsing, the ``--config file.yaml`` file and
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

from applications.reward_models.choices import SCHEMES
from applications.reward_models.cli import (
    ConfigError,
    at_least,
    check_values,
    one_of,
    option,
    parse,
    positive,
)
from applications.reward_models.data.source_spec import (
    SourceSpec,
    check_sources,
    missing_local,
    parse_source,
)
from applications.reward_models.data.split_config import SplitConfig
from applications.reward_models.sections import ModelConfig, MoreConfig, OptimConfig, ScoringConfig
from applications.reward_models.training.output_dir import check_output_dir

__all__ = [
    "TrainConfig",
    "from_dict",
    "parse_args",
    "save_config",
    "usage",
]

PROG = "python -m applications.reward_models.train"
DESCRIPTION = "Train reward models (Single / MultiTask / MORE) on preference sources."


@dataclass(kw_only=True)
class TrainConfig(OptimConfig, ScoringConfig, ModelConfig, SplitConfig):
    """Everything ``python -m applications.reward_models.train`` needs (see each help): the
    shared sections (:class:`~..data.split_config.SplitConfig`, :class:`~..sections.ModelConfig`,
    :class:`~..sections.ScoringConfig`, :class:`~..sections.OptimConfig`, ``more``:
    :class:`~..sections.MoreConfig`) and the options of training alone."""

    sources: list[SourceSpec] = option(
        factory=list,
        parse=parse_source,
        metavar="NAME[:KIND[:PATH]]",
        help="preference sources (file: mappings with name/kind/path/...); "
        "empty: every simulator source",
    )
    resample_to: int | None = option(
        None, help="resample every source to this many pairs (paper 40000)", check=positive
    )
    single_source: str | None = option(
        None, help="source of scheme single (null: the first source)"
    )
    scheme: str = option(
        "all",
        help="single, multitask, more or all (= multitask and more)",
        check=one_of(lambda: SCHEMES),
    )
    seed: int = option(0, help="training seed (head init, batch order)", check=at_least(0))
    more: MoreConfig = dataclasses.field(default_factory=MoreConfig)
    output_dir: str = option("outputs/reward_models", help="run folder (one subfolder per scheme)")
    save_steps: int = option(0, help="checkpoint every n steps (0: final only)", check=at_least(0))
    save_total_limit: int | None = option(
        2, help="keep at most n checkpoints (null: keep all)", check=at_least(1)
    )
    logging_steps: int = option(1, help="log every n steps", check=positive)
    resume: bool = option(False, help="continue from the latest checkpoint in output_dir/<scheme>")
    overwrite_output_dir: bool = option(
        False, help="delete an earlier run in output_dir and start over (else: refused)"
    )
    tensorboard: bool = option(False, help="write TensorBoard logs")
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
        check_output_dir(self.output_dir, resume=self.resume, overwrite=self.overwrite_output_dir)
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
