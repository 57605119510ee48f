"""``python -m applications.reward_models.evaluate``: score saved reward models.

Options (:class:`.evaluation.config.EvalConfig`) are checked before torch and the models load.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), then evaluate; returns the exit status."""
    from applications.reward_models.cli import run_cli
    from applications.reward_models.evaluation.config import parse_args

    def evaluate(config: object) -> int:
        from applications.reward_models.evaluation.evaluator import run_config

        return run_config(config)

    return run_cli(lambda: parse_args(argv), evaluate)


if __name__ == "__main__":
    raise SystemExit(main())
