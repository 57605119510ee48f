"""The Gramian weightings: MGDA and its family, each a map ``G [..., K, K] → w [..., K]``.

``WEIGHTINGS`` maps each method's name to its class; :func:`weighting_from_name` builds one from
a name and keyword hyperparameters (the CLI's entry).
"""

from mooptim.weightings._base import Weighting
from mooptim.weightings._cagrad import (
    CAGradSolution,
    CAGradWeighting,
    cagrad_solution,
    cagrad_weights,
)
from mooptim.weightings._fairgrad import FairGradWeighting, fairgrad_solution, fairgrad_weights
from mooptim.weightings._mean import MeanWeighting, mean_weights
from mooptim.weightings._mgda import MGDAWeighting, mgda_weights
from mooptim.weightings._nash_mtl import NashMTLWeighting, nash_mtl_solution, nash_mtl_weights
from mooptim.weightings._power_equation import PowerEquationSolution
from mooptim.weightings._registry import WEIGHTINGS, weighting_from_name

__all__ = [
    "WEIGHTINGS",
    "CAGradSolution",
    "CAGradWeighting",
    "FairGradWeighting",
    "MGDAWeighting",
    "MeanWeighting",
    "NashMTLWeighting",
    "PowerEquationSolution",
    "Weighting",
    "cagrad_solution",
    "cagrad_weights",
    "fairgrad_solution",
    "fairgrad_weights",
    "mean_weights",
    "mgda_weights",
    "nash_mtl_solution",
    "nash_mtl_weights",
    "weighting_from_name",
]
