"""The Gramian weightings: MGDA and its family, each a map ``G [..., K, K] → w [..., K]``.

``WEIGHTINGS`` maps each method's name to its class; :func:`weighting_from_name` builds one from
a name and keyword hyperparameters (the CLI's entry).
"""

from mooptim.weightings._aligned_mtl import AlignedMTLWeighting, aligned_mtl_weights
from mooptim.weightings._base import Weighting
from mooptim.weightings._dwa import DWAWeighting, dwa_weights
from mooptim.weightings._imtl_g import IMTLGWeighting, imtl_g_weights
from mooptim.weightings._mean import MeanWeighting, mean_weights
from mooptim.weightings._mgda import MGDAWeighting, mgda_weights
from mooptim.weightings._pcgrad import (
    PCGradWeighting,
    pcgrad_coefficients,
    pcgrad_permutations,
    pcgrad_weights,
)
from mooptim.weightings._random import RandomWeighting, random_weights
from mooptim.weightings._registry import WEIGHTINGS, weighting_from_name
from mooptim.weightings._uncertainty import (
    UncertaintyWeighting,
    uncertainty_objective,
    uncertainty_weights,
)

__all__ = [
    "WEIGHTINGS",
    "AlignedMTLWeighting",
    "DWAWeighting",
    "IMTLGWeighting",
    "MGDAWeighting",
    "MeanWeighting",
    "PCGradWeighting",
    "RandomWeighting",
    "UncertaintyWeighting",
    "Weighting",
    "aligned_mtl_weights",
    "dwa_weights",
    "imtl_g_weights",
    "mean_weights",
    "mgda_weights",
    "pcgrad_coefficients",
    "pcgrad_permutations",
    "pcgrad_weights",
    "random_weights",
    "uncertainty_objective",
    "uncertainty_weights",
    "weighting_from_name",
]
