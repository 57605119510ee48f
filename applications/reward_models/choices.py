"""The allowed values of the shared options (the ``one_of`` checks of :mod:`.sections` and of
``training.config``).

Choice lists that live with their owners are read lazily, when a value is checked, so that
parsing imports no torch: weightings from :data:`mooptim.weightings.WEIGHTINGS`, normalizers from
:mod:`mooptim.normalizers`, poolings from :data:`.modeling.reward_model.POOLINGS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "MIXED_PRECISION",
    "SCHEDULERS",
    "SCHEMES",
    "STRATEGIES",
    "SUBSPACES",
    "normalizers",
    "poolings",
    "weighting_option",
    "weightings",
]

SCHEMES = ("single", "multitask", "more", "balanced_uniform", "all")
"""``all`` trains MultiTask and MORE on the same data and seed (the default comparison). The names
of :data:`training.schemes.SCHEMES` are repeated here so that parsing imports no torch (a test
keeps the two in step)."""
MIXED_PRECISION = ("no", "bf16", "fp16")
SUBSPACES = ("head", "last_blocks", "all")
STRATEGIES = ("autograd", "gram")
SCHEDULERS = ("linear", "cosine", "constant_with_warmup", "constant", "cosine_with_restarts")


def normalizers() -> Sequence[str]:
    """The per-source gradient normalizers (:data:`mooptim.normalizers.NORMALIZERS`)."""
    from mooptim import normalizers as module

    return tuple(module.NORMALIZERS)


def poolings() -> Sequence[str]:
    """The reward model poolings (:data:`.modeling.reward_model.POOLINGS`)."""
    from applications.reward_models.modeling.reward_model import POOLINGS

    return tuple(POOLINGS)


def weightings() -> Sequence[str]:
    """The weighting methods (:data:`mooptim.weightings.WEIGHTINGS`)."""
    from mooptim.weightings import WEIGHTINGS

    return tuple(WEIGHTINGS)


def weighting_option(value: str | tuple[Any, Any]) -> tuple[str, Any]:
    """``"KEY=VALUE"`` (or a ``(key, value)`` pair from a file) → ``(KEY, typed VALUE)``: a
    weighting hyperparameter, the value read as an int, a float, a bool, null or else text."""
    from applications.reward_models.cli import key_value

    key, raw = key_value(value)
    return key, _typed(raw)


def _typed(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    words = {"null": None, "none": None, "true": True, "false": False}
    if text.lower() in words:
        return words[text.lower()]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
