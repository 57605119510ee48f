"""The Gramian weightings: MGDA and its family, each a map ``G [..., K, K] → w [..., K]``.

``WEIGHTINGS`` maps each method's name to its class; :func:`weighting_from_name` builds one from
a name and keyword hyperparameters (the CLI's entry).
"""

from mooptim.weightings._aligned_mtl import AlignedMTLWeighting, aligned_mtl_weights
from mooptim.weightings._base import Weighting
from mooptim.weightings._cagrad import (
    CAGradSolution,
    CAGradWeighting,
    cagrad_solution,
    cagrad_weights,
)
from mooptim.weightings._dual_cone import DualConeProjection, project_to_dual_cone
from mooptim.weightings._dualproj import DualProjWeighting, dualproj_weights
from mooptim.weightings._dwa import DWAWeighting, dwa_weights
from mooptim.weightings._fairgrad import FairGradWeighting, fairgrad_solution, fairgrad_weights
from mooptim.weightings._imtl_g import IMTLGWeighting, imtl_g_weights
from mooptim.weightings._mean import MeanWeighting, mean_weights
from mooptim.weightings._mgda import MGDAWeighting, mgda_weights
from mooptim.weightings._nash_mtl import NashMTLWeighting, nash_mtl_solution, nash_mtl_weights
from mooptim.weightings._pcgrad import (
    PCGradWeighting,
    pcgrad_coefficients,
    pcgrad_permutations,
    pcgrad_weights,
)
from mooptim.weightings._power_equation import PowerEquationSolution
from mooptim.weightings._random import RandomWeighting, random_weights
from mooptim.weightings._registry import WEIGHTINGS, weighting_from_name
from mooptim.weightings._uncertainty import (
    UncertaintyWeighting,
    uncertainty_objective,
    uncertainty_weights,
)
from mooptim.weightings._upgrad import UPGradWeighting, upgrad_weights

__all__ = [
    "WEIGHTINGS",
    "AlignedMTLWeighting",
    "CAGradSolution",
    "CAGradWeighting",
    "DWAWeighting",
    "DualConeProjection",
    "DualProjWeighting",
    "FairGradWeighting",
    "IMTLGWeighting",
    "MGDAWeighting",
    "MeanWeighting",
    "NashMTLWeighting",
    "PCGradWeighting",
    "PowerEquationSolution",
    "RandomWeighting",
    "UPGradWeighting",
    "UncertaintyWeighting",
    "Weighting",
    "aligned_mtl_weights",
    "cagrad_solution",
    "cagrad_weights",
    "dualproj_weights",
    "dwa_weights",
    "fairgrad_solution",
    "fairgrad_weights",
    "imtl_g_weights",
    "mean_weights",
    "mgda_weights",
    "nash_mtl_solution",
    "nash_mtl_weights",
    "pcgrad_coefficients",
    "pcgrad_permutations",
    "pcgrad_weights",
    "project_to_dual_cone",
    "random_weights",
    "uncertainty_objective",
    "uncertainty_weights",
    "upgrad_weights",
    "weighting_from_name",
]
