"""Resuming a run: the saved ``config.yaml`` must agree with the new settings on everything that
changes results.

A resumed run continues from ``<output_dir>/<scheme>/checkpoint-*`` and skips schemes whose
``metrics.json`` exists; both are only meaningful under the settings that produced them. Settings
that do not change the trained model or its metrics (:data:`RESULT_NEUTRAL`) may differ.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from applications.reward_models.files import write_text_atomic
from applications.reward_models.training.config import TrainConfig, parse_args, save_config

__all__ = [
    "RESULT_NEUTRAL",
    "ResumeConfigError",
    "check_resume_config",
    "config_differences",
    "write_config",
]


class ResumeConfigError(ValueError):
    """A resumed run's settings differ from its saved ``config.yaml``."""


RESULT_NEUTRAL = frozenset(
    {
        "output_dir",
        "resume",
        "overwrite_output_dir",
        "scheme",  # which schemes run, not what each produces
        "save_steps",
        "save_total_limit",
        "logging_steps",
        "tensorboard",
        "progress_bar",
        "eval_batch_size",
    }
)
"""Top-level settings that may change between a run and its resumption."""


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_differences(saved: TrainConfig, current: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """``{dotted key: (saved, current)}`` for every result-changing setting that differs."""
    old, new = _flatten(saved.to_dict()), _flatten(current.to_dict())
    return {
        key: (old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if key.split(".")[0] not in RESULT_NEUTRAL and old.get(key) != new.get(key)
    }


def check_resume_config(config: TrainConfig, path: str) -> None:
    """Refuse to resume when ``config`` differs from the run's saved ``path`` (``config.yaml``).

    Nothing to compare when ``path`` does not exist (a first run with ``--resume``).

    Raises:
        ResumeConfigError: naming every differing result-changing key with its saved and new
            value.
    """
    if not os.path.isfile(path):
        return
    saved = parse_args(["--config", path])
    # Compare what config.yaml would hold for the new settings (YAML round trip of both sides).
    with tempfile.TemporaryDirectory() as tmp:
        save_config(config, os.path.join(tmp, "config.yaml"))
        current = parse_args(["--config", os.path.join(tmp, "config.yaml")])
    diffs = config_differences(saved, current)
    if diffs:
        listed = "; ".join(f"{k}: saved {a!r}, now {b!r}" for k, (a, b) in diffs.items())
        raise ResumeConfigError(
            f"cannot resume from {os.path.dirname(os.path.abspath(path))}: settings that change "
            f"results differ from {path} ({listed}); restore them or use a new output_dir"
        )


def write_config(config: TrainConfig, path: str) -> None:
    """Write the resolved ``config`` to ``path`` as YAML, atomically."""
    with tempfile.TemporaryDirectory() as tmp:
        save_config(config, os.path.join(tmp, "config.yaml"))
        with open(os.path.join(tmp, "config.yaml"), encoding="utf-8") as f:
            text = f.read()
    write_text_atomic(path, text)
