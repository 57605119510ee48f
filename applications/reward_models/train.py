"""``python -m applications.reward_models.train``: train reward models (see :mod:`.training`)."""

from applications.reward_models.training.trainer import main

if __name__ == "__main__":
    raise SystemExit(main())
