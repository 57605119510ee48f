"""Options of ``python -m applications.reward_models.evaluate`` (parsed by :mod:`..cli`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from applications.reward_models.cli import key_value, option, parse, positive
from applications.reward_models.data.source_spec import SourceSpec, parse_source
from applications.reward_models.data.split_config import EvalSplitConfig
from applications.reward_models.sections import ScoringConfig

PROG = "python -m applications.reward_models.evaluate"
DESCRIPTION = (
    "Score saved reward models on preference test sets; write metrics.json, report.md and PNG "
    "plots."
)


@dataclass(kw_only=True)
class EvalConfig(ScoringConfig, EvalSplitConfig):
    """What to evaluate and where to write it (see each option's help). The split and scoring
    sections are the training CLI's, with its defaults, so ``--models`` and ``--output_dir``
    alone score the test pairs of a default training run as it scored them."""

    models: list[str] = option(
        help="reward models as NAME=PATH (checkpoint, run folder with final/, alias or hub id)",
        metavar="NAME=PATH",
    )
    output_dir: str = option(help="folder for metrics.json, report.md and the plots")
    sources: list[SourceSpec] = option(
        factory=list,
        parse=parse_source,
        metavar="NAME[:KIND[:PATH]]",
        help="test sets (a lone file is the test file; file: mappings as for train); "
        "empty: every simulator source",
    )
    bins: list[int] = option(
        factory=lambda: [5, 10, 20], help="ECE bin counts to report", check=positive
    )
    trained_on: dict[str, str] = option(
        factory=dict,
        parse=key_value,
        metavar="NAME=SOURCE",
        help="training source of single-source models (rows of the accuracy matrix)",
    )
    plots: bool = option(True, help="write the PNG plots")
    progress: bool = option(True, help="show progress bars")
    trust_remote_code: bool = option(
        False, help="allow model code from the checkpoint's repository (only if you trust it)"
    )

    def validate(self) -> EvalConfig:
        """Cross-option checks (a ``--models`` label given twice); returns self."""
        from applications.reward_models.evaluation.labels import model_map

        model_map(self.models)
        return self


def parse_args(argv: Sequence[str] | None = None) -> EvalConfig:
    """``argv`` (default ``sys.argv[1:]``) → checked :class:`EvalConfig`.

    Raises:
        ConfigError: see :func:`..cli.parse`.
    """
    return parse(EvalConfig, argv, PROG, DESCRIPTION)
