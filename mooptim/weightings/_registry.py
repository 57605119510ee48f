"""The name → class table of the weighting family, and :func:`weighting_from_name`.

The only string lookup of the family: the CLI edge and configuration files name a method, the
code passes objects.
"""

from __future__ import annotations

import inspect
from typing import Any

from mooptim.weightings._aligned_mtl import AlignedMTLWeighting
from mooptim.weightings._base import Weighting
from mooptim.weightings._cagrad import CAGradWeighting
from mooptim.weightings._dualproj import DualProjWeighting
from mooptim.weightings._dwa import DWAWeighting
from mooptim.weightings._fairgrad import FairGradWeighting
from mooptim.weightings._imtl_g import IMTLGWeighting
from mooptim.weightings._mean import MeanWeighting
from mooptim.weightings._mgda import MGDAWeighting
from mooptim.weightings._nash_mtl import NashMTLWeighting
from mooptim.weightings._pcgrad import PCGradWeighting
from mooptim.weightings._random import RandomWeighting
from mooptim.weightings._uncertainty import UncertaintyWeighting
from mooptim.weightings._upgrad import UPGradWeighting

__all__ = ["WEIGHTINGS", "weighting_from_name"]

WEIGHTINGS: dict[str, type[Weighting]] = {
    cls.name: cls
    for cls in (
        MGDAWeighting,
        MeanWeighting,
        RandomWeighting,
        IMTLGWeighting,
        AlignedMTLWeighting,
        PCGradWeighting,
        UncertaintyWeighting,
        DWAWeighting,
        CAGradWeighting,
        NashMTLWeighting,
        FairGradWeighting,
        UPGradWeighting,
        DualProjWeighting,
    )
}


def weighting_from_name(name: str, **hyperparameters: Any) -> Weighting:
    """The weighting registered as ``name``, built with ``hyperparameters``.

    Raises:
        ValueError: unknown name (listing the known ones), or a hyperparameter the method does
            not take (naming it).
    """
    if name not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {name!r}; choose one of {sorted(WEIGHTINGS)}")
    cls = WEIGHTINGS[name]
    accepted = set(inspect.signature(cls).parameters)
    unknown = sorted(set(hyperparameters) - accepted)
    if unknown:
        raise ValueError(
            f"weighting {name!r} takes no hyperparameter {', '.join(unknown)}; "
            f"it takes {sorted(accepted) or 'none'}"
        )
    return cls(**hyperparameters)
