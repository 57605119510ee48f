"""``python -m applications.reward_models.evaluation``: same as ``... .evaluate``."""

from applications.reward_models.evaluation.evaluator import main

if __name__ == "__main__":
    raise SystemExit(main())
