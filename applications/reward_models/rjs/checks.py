"""The RJS settings checks that need more than one option: run at argument-check time
(:meth:`.config.RJSConfig.validate`), before any model or data is loaded."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from applications.reward_models.cli import ConfigError
from applications.reward_models.rjs.names import check_name, check_names

if TYPE_CHECKING:
    from applications.reward_models.rjs.config import RJSConfig

__all__ = ["check_config"]


def check_config(cfg: RJSConfig) -> None:
    """Refuse settings that would fail only after loading.

    Raises:
        ConfigError: ``--judge http`` without ``--judge_url``; ``--seed`` or ``--simulator_seed``
            negative; ``--output_dir`` is a file; a reward-model name (``--rms``/``--schemes``,
            ``--judge rm:NAME``) unsafe as a file name (:func:`.names.check_name`), or a
            repeated ``--rms`` name.
    """
    if cfg.judge == "http" and not (cfg.judge_url or "").strip():
        raise ConfigError("--judge http needs --judge_url (the OpenAI-compatible endpoint)")
    for flag, value in (("--seed", cfg.seed), ("--simulator_seed", cfg.simulator_seed)):
        if value < 0:
            raise ConfigError(f"{flag} must be >= 0, got {value}")
    if os.path.exists(cfg.output_dir) and not os.path.isdir(cfg.output_dir):
        raise ConfigError(f"--output_dir {cfg.output_dir!r} is a file, not a folder")
    try:
        check_names(cfg.schemes if not cfg.rms else [], "--schemes")
        check_names(cfg.reward_models(), "--rms")
        if cfg.judge.startswith("rm:"):
            check_name(cfg.judge[3:], "--judge")
    except ValueError as err:
        raise ConfigError(str(err)) from None
