"""Checks shared by the iterative weightings (CAGrad, Nash-MTL, FairGrad).

Hyperparameters are validated at construction (a ``ValueError`` naming the bad value); a solve
that did not converge raises at call time, naming the problem, instead of returning NaN or an
uncertified answer.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "PARETO_STATIONARY_HINT",
    "check_converged",
    "check_non_negative",
    "check_positive",
    "check_positive_int",
]

#: Why Newton on ``G w = w^(−p)`` fails to converge (Nash-MTL, FairGrad).
PARETO_STATIONARY_HINT = (
    "; the gradients may be (nearly) Pareto-stationary (0 in their convex hull), where "
    "G w = w^(-p) has no positive solution"
)


def check_non_negative(name: str, value: float) -> float:
    """``value`` as a float; raises ``ValueError`` unless it is finite and ``≥ 0``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be ≥ 0, got {value!r}")
    return float(value)


def check_positive(name: str, value: float) -> float:
    """``value`` as a float; raises ``ValueError`` unless it is finite and ``> 0``."""
    value = check_non_negative(name, value)
    if value == 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_positive_int(name: str, value: int) -> int:
    """``value``; raises ``ValueError`` unless it is an ``int ≥ 1``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer ≥ 1, got {value!r}")
    return value


def check_converged(method: str, converged: Tensor, residual: Tensor, hint: str = "") -> None:
    """Raise ``ValueError`` naming the first problem (flat batch index) that did not converge.

    One host read of ``converged``.
    """
    bad = ~converged.reshape(-1)
    if not bool(bad.any()):
        return
    index = int(torch.nonzero(bad)[0, 0])
    where = f" (problem {index} of the batch)" if bad.numel() > 1 else ""
    value = float(residual.reshape(-1)[index])
    raise ValueError(
        f"{method} did not converge{where}: certificate {value:.3g} above its tolerance{hint}"
    )
