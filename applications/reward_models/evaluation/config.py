"""Options of ``python -m applications.reward_models.evaluate`` (parsed by :mod:`..cli`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from applications.reward_models.cli import at_least, key_value, option, parse, positive

PROG = "python -m applications.reward_models.evaluate"
DESCRIPTION = (
    "Score saved reward models on preference test sets; write metrics.json, report.md and PNG "
    "plots."
)


@dataclass
class EvalConfig:
    """What to evaluate and where to write it (see each option's help)."""

    models: list[str] = option(
        help="reward models as NAME=PATH (checkpoint, run folder with final/, alias or hub id)",
        metavar="NAME=PATH",
    )
    output_dir: str = option(help="folder for metrics.json, report.md and the plots")
    sources: list[str] = option(
        factory=list,
        metavar="NAME[:KIND[:PATH]]",
        help="test sets; empty: every simulator source",
    )
    n_per_source: int = option(
        500, help="test pairs per source (0: all rows of real sources)", check=at_least(0)
    )
    simulator_seed: int = option(0, help="seed of the simulator's test pairs")
    eval_batch_size: int = option(
        32, help="test pairs per forward pass", check=positive, aliases=("--batch_size",)
    )
    max_length: int = option(512, help="token budget of prompt + response", check=positive)
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
