"""The Gramian weightings: MGDA and its family, each a map ``G [..., K, K] → w [..., K]``.

``WEIGHTINGS`` maps each method's name to its class; :func:`weighting_from_name` builds one from
a name and keyword hyperparameters (the CLI's entry).
"""

from mooptim.weightings._base import Weighting
from mooptim.weightings._dual_cone import DualConeProjection, project_to_dual_cone
from mooptim.weightings._dualproj import DualProjWeighting, dualproj_weights
from mooptim.weightings._mean import MeanWeighting, mean_weights
from mooptim.weightings._mgda import MGDAWeighting, mgda_weights
from mooptim.weightings._registry import WEIGHTINGS, weighting_from_name
from mooptim.weightings._upgrad import UPGradWeighting, upgrad_weights

__all__ = [
    "WEIGHTINGS",
    "DualConeProjection",
    "DualProjWeighting",
    "MGDAWeighting",
    "MeanWeighting",
    "UPGradWeighting",
    "Weighting",
    "dualproj_weights",
    "mean_weights",
    "mgda_weights",
    "project_to_dual_cone",
    "upgrad_weights",
    "weighting_from_name",
]
