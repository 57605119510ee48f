"""``ObjectiveWeighting``: the stateful weighting step of any Gramian weighting, for any loop.

Each step, given K per-objective losses L_1..L_K (or K closures, one per part of the batch):

1. per-objective gradients g_i on the subspace θ_S (see :mod:`mooptim.gradients`), averaged over
   ranks under ``torch.distributed``;
2. optionally smoothed: g̃_i ← (1 − α) g̃_i + α g_i (EMA, per objective);
3. the Gram G_ij = ⟨g̃_i, g̃_j⟩ is normalised, G ← D G D with D = diag(1/s) and s_i the
   normaliser's scales computed from the squared norms diag(G) and the losses;
4. w = weighting(G_A) over the *active* objectives A (a :class:`mooptim.weightings.Weighting`,
   MGDA's min-norm λ = argmin_{λ ∈ Δ} λᵀ G λ by default, warm-started from the previous step);
5. the update direction is the gradient of Σ_i w_i L_i (``combine``: returns that loss to
   backward; ``backward_parts``: writes it into ``.grad`` directly).

With MGDA this is Sener & Koltun (2018, "Multi-Task Learning as Multi-Objective Optimization")
applied to a chosen parameter subspace, as MORE (Zeng et al., 2023, "On Diversified Preferences
of Large Language Model Alignment") does with the reward head; any other weighting of the family
(Quinton & Rey 2024's Gramian view) plugs into the same step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from mooptim._step import WeightingStep, weighting_step
from mooptim._weighting_checks import (
    add_weighted_rows,
    check_state_dict,
    check_structure,
    check_structures,
    check_weighting_config,
    extra_params,
    flags_on,
    loss_vector,
    recording_presence,
    weighted_sum,
)
from mooptim._weighting_output import WeightingOutput
from mooptim.distributed import ObjectiveAverager, broadcast_weights, distributed_enabled
from mooptim.gradients import DisjointParts, GradientStrategy, SubspaceAutograd, gram_matrix
from mooptim.subspace import Subspace
from mooptim.weightings import Weighting, weighting_from_name

__all__ = ["ObjectiveWeighting", "WeightingOutput"]


def _as_weighting(weighting: Weighting | str) -> Weighting:
    """``weighting`` itself, or the registered method of that name (default hyperparameters)."""
    if isinstance(weighting, str):
        return weighting_from_name(weighting)
    if isinstance(weighting, type) and issubclass(weighting, Weighting):
        raise TypeError(
            f"weighting must be an instance: pass {weighting.__name__}(), not the class"
        )
    if not isinstance(weighting, Weighting):
        raise TypeError(
            "weighting must be a mooptim.weightings.Weighting or a registered name, "
            f"got {type(weighting).__name__}"
        )
    return weighting


class ObjectiveWeighting:
    """Stateful weighting step over a parameter subspace, with any Gramian weighting.

    A thin shell around :func:`mooptim.weighting_step` (the step as a pure function of the Gram):
    it takes the per-objective gradients, averages them over ranks, and keeps what carries over
    between steps: the previous weights (MGDA's warm start), the gradients' EMA, the step count
    and the weighting's own state (a stateful method's generator or history).

    Three entry points: :meth:`combine` (K losses sharing one graph → Σ w_i L_i to backward),
    :meth:`backward_parts` (K closures on disjoint parts of the batch → ``.grad`` filled) and
    :meth:`combine_vectors` (caller-supplied per-objective vectors, e.g. feature gradients).

    Args:
        subspace: parameters whose per-objective gradients define the Gram.
        weighting: a :class:`mooptim.weightings.Weighting`, or a name of
            :data:`mooptim.weightings.WEIGHTINGS` (built with its default hyperparameters; use
            ``weighting_from_name(name, **hyperparameters)`` for others). Default ``"mgda"``:
            the exact min-norm λ, as :class:`mooptim.MinNormWeighting`.
        normalizer: object with ``scales(sq_norms, losses) -> [K]`` positive divisors (e.g.
            ``L2Normalization()``); ``None`` = no normalisation. Applied to the Gram before
            every method, as G ← D G D.
        ema_alpha: EMA weight of the NEW gradient: g̃ ← (1 − α) g̃ + α g_new. So α = 0.99 means
            "almost entirely the new gradient" (light smoothing) and α = 0.1 heavy smoothing;
            ``None``, 0 or 1 disable it. For the momentum convention g̃ ← β g̃ + (1 − β) g, pass
            ``ema_alpha = 1 − β``. The EMA starts from each objective's first gradient (not from
            an arbitrary value, which would bias the first steps' weights). Needs a strategy that
            keeps the vectors.
        strategy: how gradients are taken in :meth:`combine` (default :class:`SubspaceAutograd`).
            :meth:`backward_parts` always uses the disjoint-parts method.
        scale_by_num_objectives: multiply the combined loss by the number of active objectives k.
            Default ``False``: the loss is Σ w_i L_i with the method's weights as they are. For
            weights that sum to 1 (MGDA, Mean, RLW, IMTL-G), uniform weights then give the plain
            mean over objectives (what the MORE reference code computes) and ``True`` the plain
            sum (the paper's eq. 8, k Σ λ_i L_i): the gradient, and with SGD the effective
            learning rate, is k times larger (Adam is nearly invariant to it). Methods with a
            scale of their own (DWA's weights sum to k, Nash-MTL's and the uncertainty
            weighting's are unnormalised) are multiplied by k on top of it.
        num_objectives: K, if known; otherwise fixed by the first call.
        zero_grad_tol: an objective is inactive when ‖g_i‖² ≤ zero_grad_tol · max_j ‖g_j‖² (and
            always when ‖g_i‖² = 0).
        broadcast: under ``torch.distributed``, also broadcast the weights from rank 0 (they are
            already identical on all ranks for a deterministic method — the Gram and the loss
            values are rank averages; a random method needs the same seed on every rank, or this
            extra K-float collective).
        process_group: the group to average over (``None`` = default group).

    Missing or degenerate objectives: a ``None`` loss (absent from the batch on every rank) or a
    zero gradient (e.g. all pairs tied) is excluded from the weighting, gets w_i = 0 and
    ``active[i] = False``; the weighting sees the ``[k, k]`` Gram of the k active objectives only
    (and, if it reads losses, their rank-averaged loss values), so it can never give a dead
    objective weight — for MGDA that matters: a zero gradient is itself the min-norm point, so a
    solve that included it would put all the weight there. A stateful method therefore sees a
    smaller problem on a step where an objective drops out; what its state does then is the
    method's choice (one that refuses raises a ``ValueError`` naming the active objectives,
    with the step's state untouched). With no active objective the step
    returns a zero loss and all-zero weights, with ``num_active == 0`` as the flag, without
    calling the weighting; it does not raise, so a loop can skip the update.

    Raises:
        TypeError: ``subspace`` is not a :class:`Subspace`, or ``weighting`` neither a
            :class:`~mooptim.weightings.Weighting` nor a name.
        ValueError: an unknown weighting name; wrong number of losses/closures, non-scalar or
            non-finite loss (naming the index), a loss without a graph, EMA with a strategy that
            keeps no vectors, bad options.
    """

    def __init__(
        self,
        subspace: Subspace,
        weighting: Weighting | str = "mgda",
        normalizer: Any = None,
        ema_alpha: float | None = None,
        strategy: GradientStrategy | DisjointParts | None = None,
        scale_by_num_objectives: bool = False,
        *,
        num_objectives: int | None = None,
        zero_grad_tol: float = 0.0,
        broadcast: bool = False,
        process_group: Any = None,
    ) -> None:
        if not isinstance(subspace, Subspace):
            raise TypeError(f"subspace must be a Subspace, got {type(subspace).__name__}")
        strategy = SubspaceAutograd() if strategy is None else strategy
        if ema_alpha is not None and not 0.0 <= ema_alpha <= 1.0:
            raise ValueError(f"ema_alpha must be in [0, 1], got {ema_alpha}")
        self.ema_alpha = None if ema_alpha in (None, 0.0, 1.0) else float(ema_alpha)
        if self.ema_alpha is not None and not strategy.keeps_vectors:
            raise ValueError(
                f"EMA smoothing needs the per-objective gradient vectors; "
                f"{type(strategy).__name__} never holds them "
                "(use SubspaceAutograd or DisjointParts, or ema_alpha=None)"
            )
        if num_objectives is not None and num_objectives < 1:
            raise ValueError(f"num_objectives must be >= 1, got {num_objectives}")
        if zero_grad_tol < 0:
            raise ValueError(f"zero_grad_tol must be >= 0, got {zero_grad_tol}")
        self.subspace = subspace
        self.weighting = _as_weighting(weighting)
        self.normalizer = normalizer
        self.strategy = strategy
        self.scale_by_num_objectives = scale_by_num_objectives
        self.num_objectives = num_objectives
        self.zero_grad_tol = zero_grad_tol
        self.broadcast = broadcast
        self.process_group = process_group
        self.step = 0
        self._parts = DisjointParts()  # keeps its gradient workspace between steps
        self._weights: torch.Tensor | None = None
        self._ema: torch.Tensor | None = None
        self._ema_seen: torch.Tensor | None = None
        self._ema_source = "subspace"  # what the EMA columns are: subspace gradients or vectors

    # -- public steps ---------------------------------------------------------------------------

    def combine(self, losses: Sequence[torch.Tensor | None]) -> WeightingOutput:
        """Weights for ``losses`` (K scalars sharing one graph; ``None`` = absent) and Σ w_i L_i.

        Call ``out.loss.backward()`` afterwards. Uses the configured strategy (graph is retained for
        that backward).

        Raises:
            TypeError: the strategy is :class:`DisjointParts` (use :meth:`backward_parts`), or a
                loss is not a tensor.
            ValueError: wrong number of losses, a non-scalar, graph-less or non-finite loss, or a
                non-finite gradient (each naming the objective index).
        """
        if isinstance(self.strategy, DisjointParts):
            raise TypeError(
                "the DisjointParts strategy takes closures: call backward_parts(closures)"
            )
        losses = self._check_count(list(losses), "losses")
        check_structures(losses)
        averager = self._averager(losses)
        grads = self.strategy.compute(losses, self.subspace, averager)
        values = self._loss_values(losses, averager)
        step = self._step(grads.gram, grads.vectors, values, averager, losses)
        return WeightingOutput.from_step(self._weighted_loss(losses, step), step)

    def combine_vectors(
        self, vectors: torch.Tensor, losses: Sequence[torch.Tensor | None]
    ) -> WeightingOutput:
        """Weights from caller-supplied per-objective vectors, and Σ w_i L_i.

        For gradients the caller already has: with respect to a shared representation (MGDA-UB),
        a LoRA adapter, per-objective features... ``vectors`` is ``[K, d]`` (row i = g_i; rows of
        absent objectives are ignored and treated as zero); ``losses`` are the K scalar losses
        (``None`` = absent) that the returned loss combines. Normalisation, EMA, the active mask,
        warm start and the cross-rank average apply exactly as in :meth:`combine`; the subspace
        is not used.

        Raises:
            ValueError: ``vectors`` not ``[K, d]``, wrong number of losses, a bad loss or a
                non-finite vector row (naming the objective index).
        """
        losses = self._check_count(list(losses), "losses")
        if vectors.dim() != 2 or vectors.shape[0] != len(losses):
            raise ValueError(
                f"vectors have shape {tuple(vectors.shape)}; expected [{len(losses)}, d]"
            )
        check_structures(losses)
        averager = self._averager(losses)
        present = flags_on([loss is not None for loss in losses], vectors.device)
        local = torch.where(present[:, None], vectors.detach(), torch.zeros_like(vectors))
        local = averager(local)
        values = self._loss_values(losses, averager)
        step = self._step(gram_matrix(local), local, values, averager, losses, "vectors")
        return WeightingOutput.from_step(self._weighted_loss(losses, step), step)

    def backward_parts(
        self,
        closures: Sequence[Callable[[], torch.Tensor | None]],
        *,
        params: Sequence[torch.Tensor] | None = None,
    ) -> WeightingOutput:
        """Disjoint-parts step: run each closure (part i's forward, returning L_i or ``None``),
        weigh, and accumulate ``p.grad += Σ w_i ∂L_i/∂p`` for every subspace parameter (and every
        parameter in ``params``, e.g. the rest of the model when the subspace is only the head;
        those receive the weighted gradient but do not enter the Gram).

        No further backward is needed: call ``optimizer.step()``. Under torch.distributed the part
        gradients are averaged here, so run the closures on the unwrapped module or inside DDP's
        ``no_sync()``. With no active objective no ``.grad`` is touched.

        Each loss's type, shape and graph are checked as its closure returns; finiteness is
        checked once, after all parts ran, in the host read that also fetches the active
        objectives (the step's first; the active set is needed on the host anyway), so on an
        accelerator the parts queue without waiting for each other. A failed check leaves
        ``.grad`` and the step's state (EMA, warm start, step count, the weighting's state)
        untouched.

        Raises:
            TypeError: a closure returned something other than a tensor or ``None``.
            ValueError: wrong number of closures, a non-scalar, graph-less or non-finite loss, or
                a non-finite gradient (each naming the objective index).
        """
        closures = self._check_count(list(closures), "closures")
        extra = [] if params is None else extra_params(self.subspace, params)
        all_params = list(self.subspace.params) + extra
        strategy = self.strategy if isinstance(self.strategy, DisjointParts) else self._parts
        present_local = [True] * len(closures)
        holder: dict[str, ObjectiveAverager] = {}

        def reduce(t: torch.Tensor) -> torch.Tensor:
            # presence is only known after the closures ran; the averager is built then
            holder["avg"] = ObjectiveAverager(
                flags_on(present_local, t.device), self._distributed(), self.process_group
            )
            return holder["avg"](t)

        recorded = recording_presence(closures, present_local)
        losses, vectors = strategy.compute_parts(recorded, all_params, reduce, check_structure)
        averager = holder["avg"]
        sub = vectors[:, : self.subspace.numel]
        values = self._loss_values(losses, averager)
        step = self._step(gram_matrix(sub), sub, values, averager, losses)
        scale = self._loss_scale(step.num_active)
        if step.num_active > 0:
            add_weighted_rows(step.weights.to(vectors.dtype) * scale, vectors, all_params)
        total = weighted_sum(losses, step.weights)  # the losses are detached here
        if total is None:
            total = torch.zeros((), device=vectors.device, dtype=vectors.dtype)
        return WeightingOutput.from_step(total * scale, step)

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Step count, previous weights (MGDA's warm start), the EMA state, and the weighting's
        ``config()`` and own ``state_dict()`` (tensors cloned)."""

        def c(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.detach().clone()

        return {
            "step": self.step,
            "num_objectives": self.num_objectives,
            "ema_alpha": self.ema_alpha,
            "weights": c(self._weights),
            "ema": c(self._ema),
            "ema_seen": c(self._ema_seen),
            "ema_source": self._ema_source,
            "weighting": self.weighting.config(),
            "weighting_state": self.weighting.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; tensors move to the subspace's device.

        The saved weighting must be this one's (same ``config()``: name and hyperparameters);
        its state is then restored into :attr:`weighting`. A state dict saved before weightings
        recorded their configuration (no ``"weighting"`` key) is an MGDA one.

        Raises:
            ValueError: missing keys, a different number of objectives, an EMA whose width does
                not match the subspace, or a different weighting (naming what differs).
        """
        check_state_dict(state, self.num_objectives, self.subspace.numel)
        check_weighting_config(state.get("weighting"), self.weighting.config())
        k, ema = state["num_objectives"], state["ema"]
        device = self.subspace.params[0].device

        def m(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.detach().clone().to(device)

        self.weighting.load_state_dict(state.get("weighting_state", {}))
        self.step = int(state["step"])
        self.num_objectives = k if k is not None else self.num_objectives
        self._weights, self._ema, self._ema_seen = m(state["weights"]), m(ema), m(state["ema_seen"])
        self._ema_source = state.get("ema_source", "subspace")

    # -- internals ------------------------------------------------------------------------------

    def _check_count(self, items: list[Any], what: str) -> list[Any]:
        if not items:
            raise ValueError(f"got no {what}: need one per objective")
        if self.num_objectives is None:
            self.num_objectives = len(items)
        elif len(items) != self.num_objectives:
            raise ValueError(
                f"got {len(items)} {what}, expected {self.num_objectives} (one per objective)"
            )
        return items

    def _distributed(self) -> bool:
        return distributed_enabled(self.process_group)

    def _averager(self, losses: Sequence[torch.Tensor | None]) -> ObjectiveAverager:
        device = self.subspace.params[0].device
        present = flags_on([loss is not None for loss in losses], device)
        return ObjectiveAverager(present, self._distributed(), self.process_group)

    def _loss_values(
        self, losses: Sequence[torch.Tensor | None], averager: ObjectiveAverager
    ) -> torch.Tensor:
        """``[K]`` loss values averaged over ranks where present (the normaliser's input)."""
        return averager(loss_vector(losses, self.subspace.params[0].device))

    def _weighted_loss(
        self, losses: Sequence[torch.Tensor | None], step: WeightingStep
    ) -> torch.Tensor:
        total = weighted_sum(losses, step.weights)
        if total is None:
            return torch.zeros((), device=step.weights.device, requires_grad=True)
        return total * self._loss_scale(step.num_active)

    def _loss_scale(self, num_active: int) -> float:
        return float(num_active) if self.scale_by_num_objectives and num_active > 0 else 1.0

    def _step(
        self,
        gram: torch.Tensor,
        vectors: torch.Tensor | None,
        values: torch.Tensor,
        averager: ObjectiveAverager,
        local_losses: Sequence[torch.Tensor | None],
        source: str = "subspace",
    ) -> WeightingStep:
        """Run :func:`weighting_step` on this state and commit its result (only if it passed)."""
        ema = None if self._ema is None or self._ema_seen is None else (self._ema, self._ema_seen)
        step = weighting_step(
            gram,
            vectors,
            values,
            loss_vector(local_losses, values.device),
            averager.present_anywhere,
            weighting=self.weighting,
            normalizer=self.normalizer,
            previous=self._weights,
            ema=ema,
            ema_alpha=self.ema_alpha,
            zero_grad_tol=self.zero_grad_tol,
        )
        if step.ema is not None:
            self._ema, self._ema_seen, self._ema_source = step.ema, step.ema_seen, source
        self.step += 1
        if self.broadcast and averager.enabled:
            broadcast_weights(step.weights, self.process_group)
        self._weights = step.weights.detach().clone()
        return step
