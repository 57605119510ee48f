"""mooptim: multi-objective optimization for PyTorch training.

The core is :class:`MinNormSolver`, which solves the min-norm (MGDA) problem
``min_{λ ≥ 0, Σλ = 1} λᵀGλ`` exactly and batched on the input's device; :mod:`mooptim.weightings`
holds MGDA's family of Gramian weightings, and :class:`ObjectiveWeighting` plugs any of them into
a training step.
"""

from mooptim._result import MinNormResult
from mooptim._step import WeightingStep, weighting_step
from mooptim.gradients import DisjointParts, GradientStrategy, GramAccumulation, SubspaceAutograd
from mooptim.normalizers import (
    NORMALIZERS,
    L2Normalization,
    LossL2Normalization,
    LossNormalization,
    NoNormalization,
    normalize_gram,
    normalize_vectors,
    normalizer_from_name,
)
from mooptim.objective_weighting import ObjectiveWeighting, WeightingOutput
from mooptim.solver import METHODS, MinNormSolver
from mooptim.subspace import Subspace
from mooptim.weighting import MinNormStep, MinNormWeighting, min_norm_step

__all__ = [
    "METHODS",
    "NORMALIZERS",
    "DisjointParts",
    "GradientStrategy",
    "GramAccumulation",
    "L2Normalization",
    "LossL2Normalization",
    "LossNormalization",
    "MinNormResult",
    "MinNormSolver",
    "MinNormStep",
    "MinNormWeighting",
    "NoNormalization",
    "ObjectiveWeighting",
    "Subspace",
    "SubspaceAutograd",
    "WeightingOutput",
    "WeightingStep",
    "min_norm_step",
    "normalize_gram",
    "normalize_vectors",
    "normalizer_from_name",
    "weighting_step",
]
