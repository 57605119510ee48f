"""The allowed values of the training options (the ``one_of`` checks of :mod:`.config`).

Choice lists that live with their owners are read lazily, when a value is checked, so that
parsing imports no torch: solvers from :data:`mooptim.METHODS`, normalizers from
:mod:`mooptim.normalizers`, poolings from :data:`.modeling.reward_model.POOLINGS`.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "MIXED_PRECISION",
    "SCHEDULERS",
    "SCHEMES",
    "STRATEGIES",
    "SUBSPACES",
    "normalizers",
    "poolings",
    "solvers",
]

SCHEMES = ("single", "multitask", "more", "balanced_uniform", "all")
"""``all`` trains MultiTask and MORE on the same data and seed (the default comparison). The names
of :data:`training.schemes.SCHEMES` are repeated here so that parsing imports no torch (a test
keeps the two in step)."""
MIXED_PRECISION = ("no", "bf16", "fp16")
SUBSPACES = ("head", "last_blocks", "all")
STRATEGIES = ("autograd", "gram")
SCHEDULERS = ("linear", "cosine", "constant_with_warmup", "constant", "cosine_with_restarts")


def solvers() -> Sequence[str]:
    """The min-norm solvers (:data:`mooptim.METHODS`)."""
    import mooptim

    return tuple(mooptim.METHODS)


def normalizers() -> Sequence[str]:
    """The per-source gradient normalizers (:data:`mooptim.normalizers.NORMALIZERS`)."""
    from mooptim import normalizers as module

    return tuple(module.NORMALIZERS)


def poolings() -> Sequence[str]:
    """The reward model poolings (:data:`.modeling.reward_model.POOLINGS`)."""
    from applications.reward_models.modeling.reward_model import POOLINGS

    return tuple(POOLINGS)
