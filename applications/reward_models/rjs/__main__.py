"""CLI: ``python -m applications.reward_models.rjs STAGE [--option value ...]``.

STAGE is one of sample, score, select, sft, evaluate, report, or all. Options are the fields of
:class:`~applications.reward_models.rjs.config.RJSConfig` (``--output_dir``, ``--config``, ...).

Every stage reads its inputs from and writes its outputs under ``--output_dir`` and can be rerun:
it skips work already on disk (see :mod:`applications.reward_models.rjs.pipeline`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the stage(s); returns the exit status."""
    from applications.reward_models.cli import run_cli
    from applications.reward_models.rjs.config import parse_args

    def run(parsed: tuple[str, object]) -> int:
        from applications.reward_models.rjs.pipeline import STAGES, run_stages

        stage, config = parsed
        run_stages(config, list(STAGES) if stage == "all" else [stage])
        return 0

    return run_cli(lambda: parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
