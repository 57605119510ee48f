"""The weighting step as a pure function of this step's Gram and the previous state.

:class:`mooptim.ObjectiveWeighting` computes the gradients, averages them over ranks and keeps
the state between steps; everything it decides from them is here: the active set, the EMA of the
gradients, the input checks, the warm start (MGDA) and the weighting of the active objectives
(any :class:`mooptim.weightings.Weighting`; MGDA — Sener & Koltun 2018 — restricted to a parameter
subspace as in MORE, Zeng et al. 2023, is the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from mooptim._active_solve import solve_active, warm_start
from mooptim._ema import ema_update
from mooptim._result import MinNormResult
from mooptim._solver_weighting import solver_weighting
from mooptim.gradients import gram_matrix
from mooptim.weightings import Weighting

__all__ = ["MinNormStep", "WeightingStep", "min_norm_step", "warm_start", "weighting_step"]


@dataclass(frozen=True)
class WeightingStep:
    """What :func:`weighting_step` decided; see :class:`mooptim.WeightingOutput` for the fields
    they become.

    Attributes:
        weights: ``[K]`` the weighting's weights over the active objectives, 0 elsewhere (for
            MGDA on the simplex).
        active: ``[K]`` bool: present (on some rank) and with a nonzero gradient.
        present: ``[K]`` bool: present on some rank (the input, passed through).
        losses: ``[K]`` this rank's loss values (the input, passed through).
        gram: ``[K, K]`` normalised Gram given to the weighting (zero off the active set).
        min_norm_sq: ``wᵀ G w`` of that Gram: ‖Σ w_i g_i / s_i‖² (for MGDA the min-norm value).
        result: MGDA's solver result, or ``None`` (another method, or fewer than two active).
        num_active: number of active objectives.
        ema: ``[K, d]`` EMA of the gradients after this step, or ``None`` when EMA is off.
        ema_seen: ``[K]`` bool, rows of ``ema`` that hold a value, or ``None``.
    """

    weights: Tensor
    active: Tensor
    present: Tensor
    losses: Tensor
    gram: Tensor
    min_norm_sq: Tensor
    result: MinNormResult | None
    num_active: int
    ema: Tensor | None
    ema_seen: Tensor | None


#: The former name of :class:`WeightingStep` (the step's decisions; kept for existing code).
MinNormStep = WeightingStep


def _checked_active(active: Tensor, finite: Tensor, losses: Tensor) -> list[bool]:
    """The active flags as a list, after checking the gradients and losses are finite.

    One host read for all three (the step's first; the weighting needs the Gram on the host
    anyway).

    Raises:
        ValueError: a non-finite loss or gradient, naming the objective index.
    """
    k = active.shape[0]
    checks = [active, finite, torch.isfinite(losses)]
    flags = torch.cat([c.to(active.device) for c in checks]).tolist()
    if not all(flags[2 * k :]):
        bad = flags[2 * k :].index(False)
        raise ValueError(f"loss of objective {bad} is not finite ({losses[bad].item()})")
    if not all(flags[k : 2 * k]):
        bad = flags[k : 2 * k].index(False)
        raise ValueError(f"the gradient of objective {bad} is not finite")
    return flags[:k]


def _nonzero(sq_norms: Tensor, zero_grad_tol: float) -> Tensor:
    """``‖g_i‖² > 0`` and ``‖g_i‖² > zero_grad_tol · max_j ‖g_j‖²``."""
    return (sq_norms > 0) & (sq_norms > zero_grad_tol * sq_norms.max())


def _smoothed(
    vectors: Tensor, active: Tensor, ema: tuple[Tensor, Tensor] | None, alpha: float
) -> tuple[Tensor, Tensor]:
    """The EMA state after this step's gradients (new tensors: the caller commits them)."""
    state, seen = (None, None) if ema is None else ema
    return ema_update(state, seen, vectors.detach(), active, alpha)


def weighting_step(
    gram: Tensor,
    vectors: Tensor | None,
    values: Tensor,
    losses: Tensor,
    present: Tensor,
    *,
    weighting: Weighting,
    normalizer: Any = None,
    previous: Tensor | None = None,
    ema: tuple[Tensor, Tensor] | None = None,
    ema_alpha: float | None = None,
    zero_grad_tol: float = 0.0,
) -> WeightingStep:
    """``w = weighting(D G̃_A D)`` over the active objectives A, scattered back to K with zeros.

    Objective i is active when present and ``‖g_i‖² > max(0, zero_grad_tol · max_j ‖g_j‖²)`` for
    this step's gradients (not the EMA). ``G̃`` is the Gram of the EMA g̃_i ← (1 − α) g̃_i + α g_i of
    the active rows (a row starts at its first gradient) with ``ema_alpha``, else G. D is the
    normaliser's ``diag(1/s)``. A loss-based weighting (``needs_losses``) also receives
    ``values[A]``. MGDA (:class:`mooptim.weightings.MGDAWeighting`) solves
    ``argmin_{w ∈ Δ} wᵀ (D G̃_A D) w`` warm-started from ``previous``; one active objective gets
    weight 1 without a solve.

    Args:
        gram: ``[K, K]`` Gram of this step's (rank-averaged) gradients.
        vectors: ``[K, d]`` those gradients, or ``None`` (needed with ``ema_alpha``).
        values: ``[K]`` rank-averaged loss values (the normaliser's and a loss-based
            weighting's input).
        losses: ``[K]`` this rank's loss values (0 where absent), checked to be finite.
        present: ``[K]`` bool, objective present on some rank.
        weighting: the :class:`~mooptim.weightings.Weighting` of the active objectives (called
            once per step with at least one active objective; a stateful one advances).
        normalizer: object with ``scales(sq_norms, losses)``, or ``None``.
        previous: ``[K]`` weights of the previous step (MGDA's warm start), or ``None``.
        ema: ``(state [K, d], seen [K])`` of the previous step, or ``None`` at the first.
        ema_alpha: weight of the new gradient in the EMA; ``None`` disables it.
        zero_grad_tol: relative threshold of the active set.

    Raises:
        ValueError: a non-finite loss or gradient (naming the objective index).
    """
    active_t = _nonzero(torch.diagonal(gram), zero_grad_tol) & present.to(gram.device)
    gram, finite, new_ema, new_seen = _smoothed_gram(gram, vectors, active_t, ema, ema_alpha)
    active = _checked_active(active_t, finite, losses.to(values.device))
    idx = [i for i, on in enumerate(active) if on]
    solved = solve_active(gram, values, idx, weighting, normalizer, previous)
    return _step_result(solved, active, present, losses, (new_ema, new_seen))


def _smoothed_gram(
    gram: Tensor,
    vectors: Tensor | None,
    active: Tensor,
    ema: tuple[Tensor, Tensor] | None,
    ema_alpha: float | None,
) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
    """The Gram the weighting sees (of the EMA when on), its finite diagonal, the new EMA state.

    The EMA state is committed by the caller, only once the step's checks pass.
    """
    finite = torch.isfinite(torch.diagonal(gram))
    if ema_alpha is None or vectors is None:
        return gram, finite, None, None
    new_ema, new_seen = _smoothed(vectors, active, ema, ema_alpha)
    gram = gram_matrix(new_ema)
    return gram, finite & torch.isfinite(torch.diagonal(gram)), new_ema, new_seen


def _step_result(
    solved: tuple[Tensor, Tensor, Tensor, Any],
    active: list[bool],
    present: Tensor,
    losses: Tensor,
    ema: tuple[Tensor | None, Tensor | None],
) -> WeightingStep:
    weights, used, min_norm_sq, result = solved
    return WeightingStep(
        weights=weights,
        active=torch.tensor(active, device=weights.device),
        present=present.to(weights.device),
        losses=losses,
        gram=used.detach(),
        min_norm_sq=min_norm_sq.detach(),
        result=result,
        num_active=sum(active),
        ema=ema[0],
        ema_seen=ema[1],
    )


def min_norm_step(
    gram: Tensor,
    vectors: Tensor | None,
    values: Tensor,
    losses: Tensor,
    present: Tensor,
    *,
    solver: Any,
    **options: Any,
) -> WeightingStep:
    """:func:`weighting_step` with MGDA through ``solver``: λ = argmin_{λ ∈ Δ} λᵀ (D G̃_A D) λ.

    The min-norm step of MGDA / MORE, warm-started from ``previous``; kept for existing code
    (``weighting_step(..., weighting=MGDAWeighting())`` is the same with the default solver).

    Args:
        gram: ``[K, K]`` Gram of this step's (rank-averaged) gradients.
        vectors: ``[K, d]`` those gradients, or ``None`` (needed with ``ema_alpha``).
        values: ``[K]`` rank-averaged loss values (the normaliser's input).
        losses: ``[K]`` this rank's loss values (0 where absent), checked to be finite.
        present: ``[K]`` bool, objective present on some rank.
        solver: a :class:`mooptim.MinNormSolver`, or any object with
            ``solve_gram(gram, warm_start=...)`` returning ``.weights`` and ``.min_norm_sq``.
        **options: :func:`weighting_step`'s keyword options (``normalizer``, ``previous``,
            ``ema``, ``ema_alpha``, ``zero_grad_tol``).

    Raises:
        ValueError: a non-finite loss or gradient (naming the objective index).
    """
    weighting = solver_weighting(solver)
    return weighting_step(gram, vectors, values, losses, present, weighting=weighting, **options)
