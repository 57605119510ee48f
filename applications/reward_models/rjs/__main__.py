"""CLI: ``python -m applications.reward_models.rjs STAGE [flags]``.

STAGE is one of sample, score, select, sft, evaluate, report, or all.

Every stage reads its inputs from and writes its outputs under ``--out-dir`` and can be rerun: it
skips work already on disk (see :mod:`applications.reward_models.rjs.pipeline`).
"""

from __future__ import annotations

import argparse
import sys

from applications.reward_models.rjs.config import add_config_args, config_from_args
from applications.reward_models.rjs.pipeline import STAGES, run_stages


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m applications.reward_models.rjs",
        description="Best-of-n reject sampling with reward models, SFT, and alignment evaluation.",
    )
    sub = parser.add_subparsers(dest="stage", required=True)
    for name in [*STAGES, "all"]:
        add_config_args(
            sub.add_parser(
                name, help="run all stages in order" if name == "all" else f"stage {name}"
            )
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = config_from_args(args)
    names = list(STAGES) if args.stage == "all" else [args.stage]
    run_stages(cfg, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
