"""``python -m applications.reward_models.train``: train reward models (see :mod:`.training`).

Options are parsed and checked before the trainer (torch, transformers, data) is imported, so a
bad option fails in seconds with one line ``error: ...`` and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), then train; returns the exit status."""
    from applications.reward_models.cli import run_cli
    from applications.reward_models.training.config import parse_args

    def train(config: object) -> int:
        from applications.reward_models.training.run import run

        try:
            run(config)
        except (ValueError, OSError) as err:  # bad data or files: one line, no traceback
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0

    return run_cli(lambda: parse_args(argv), train)


if __name__ == "__main__":
    raise SystemExit(main())
