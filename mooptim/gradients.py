"""Per-objective gradient strategies: how g_i = ∂L_i/∂θ_S and G_ij = ⟨g_i, g_j⟩ are obtained.

Notation: K objectives, d = ``subspace.numel``, D = number of all trainable parameters, B = the cost
of one ordinary backward pass through the whole model, B_S = the cost of a backward pass from the
losses down to the subspace only (for a head subspace B_S ≪ B; for the full model B_S = B).

- ``SubspaceAutograd``: time K·B_S + B (the final backward); memory K·d plus the retained graph.
  For small subspaces (head, last blocks); the only ``combine`` strategy that allows EMA.
- ``DisjointParts``: time ≈ B (K part backwards on 1/K of the batch each) + K gradient copies;
  memory K·D gradient copies. When each objective has its own part of the batch; full model.
- ``GramAccumulation``: time n_blocks·K·B_S + B; memory K·block_numel. Large subspaces that
  cannot hold K·d; no EMA.

Every strategy takes a ``reduce`` callable applied to per-objective tensors ``[K, ...]`` before they
enter the Gram; the weighting step passes the cross-rank average there (see
:mod:`mooptim.distributed`), and the identity otherwise. Absent objectives (``None`` losses)
contribute zero rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from mooptim.subspace import Subspace

__all__ = [
    "DisjointParts",
    "GradientStrategy",
    "GramAccumulation",
    "PerObjectiveGradients",
    "SubspaceAutograd",
    "gram_matrix",
]

Reduce = Callable[[torch.Tensor], torch.Tensor]


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def gram_matrix(vectors: torch.Tensor, chunk: int = 2**18) -> torch.Tensor:
    """G = V Vᵀ for ``vectors`` ``[K, d]``; half-precision inputs are accumulated in float32.

    Wide matrices are processed in column chunks of ``chunk``: for K ≪ d a single BLAS call on the
    full ``[K, d] × [d, K]`` product is markedly slower (measured ~2× for K=5, d=3.4M on CPU) than
    cache-sized blocks, and a half-precision input is never upcast as a whole.
    """
    acc = torch.float32 if vectors.dtype in (torch.float16, torch.bfloat16) else vectors.dtype
    d = vectors.shape[1]
    if d <= chunk:
        v = vectors.to(acc)
        return v @ v.T
    gram = torch.zeros(vectors.shape[0], vectors.shape[0], dtype=acc, device=vectors.device)
    for start in range(0, d, chunk):
        block = vectors[:, start : start + chunk].to(acc)
        gram.addmm_(block, block.T)
    return gram


@dataclass(frozen=True)
class PerObjectiveGradients:
    """What a strategy hands to the weighting step.

    Attributes:
        gram: ``[K, K]`` Gram matrix of the (reduced) per-objective subspace gradients.
        vectors: ``[K, d]`` the gradients themselves, or ``None`` when the strategy never
            holds them.
    """

    gram: torch.Tensor
    vectors: torch.Tensor | None


class GradientStrategy:
    """Base class: per-objective subspace gradients from K scalar losses sharing one graph."""

    #: whether :meth:`compute` returns the ``[K, d]`` vectors (needed for gradient EMA).
    keeps_vectors: bool = True

    def compute(
        self,
        losses: Sequence[torch.Tensor | None],
        subspace: Subspace,
        reduce: Reduce = _identity,
    ) -> PerObjectiveGradients:
        raise NotImplementedError


def _grads_into(
    row: torch.Tensor, loss: torch.Tensor, params: Sequence[torch.Tensor], retain_graph: bool
) -> None:
    """Write ∂loss/∂params, flattened, into ``row`` (zeros where the loss does not reach)."""
    grads = torch.autograd.grad(loss, params, retain_graph=retain_graph, allow_unused=True)
    if all(g is not None for g in grads):
        # One kernel writing the whole row, instead of one slice copy per parameter.
        torch.cat([g.reshape(-1) for g in grads], out=row)
        return
    offset = 0
    for g, p in zip(grads, params, strict=True):
        n = p.numel()
        if g is None:
            row[offset : offset + n].zero_()
        else:
            row[offset : offset + n].copy_(g.reshape(-1))
        offset += n


def _buffer(k: int, params: Sequence[torch.Tensor]) -> torch.Tensor:
    first = params[0]
    return torch.zeros(k, sum(p.numel() for p in params), dtype=first.dtype, device=first.device)


class SubspaceAutograd(GradientStrategy):
    """``torch.autograd.grad`` of each L_i with respect to the subspace only, graph retained.

    Time: K backward passes from the losses down to the subspace (K·B_S; for a head subspace only
    the head and the loss ops are traversed, so it is nearly free), then the caller's one ordinary
    backward of Σ λ_i L_i. Memory: the ``[K, d]`` gradient matrix, plus the retained graph (which
    the ordinary backward needs anyway). Use for heads and the last few blocks, and whenever EMA
    smoothing is wanted. For the full model it costs K+1 backward passes: prefer
    :class:`DisjointParts` when objectives live on disjoint parts of the batch.
    """

    keeps_vectors = True

    def compute(
        self,
        losses: Sequence[torch.Tensor | None],
        subspace: Subspace,
        reduce: Reduce = _identity,
    ) -> PerObjectiveGradients:
        vectors = _buffer(len(losses), subspace.params)
        for i, loss in enumerate(losses):
            if loss is not None:
                _grads_into(vectors[i], loss, subspace.params, retain_graph=True)
        vectors = reduce(vectors)
        return PerObjectiveGradients(gram=gram_matrix(vectors), vectors=vectors)


class GramAccumulation(GradientStrategy):
    """Build the K×K Gram block by block, never holding the full ``[K, d]`` matrix.

    The subspace's parameter tensors are grouped, in order, into blocks of at most ``block_numel``
    elements (a larger tensor is a block on its own). For each block b, the K gradients restricted
    to b are taken with ``torch.autograd.grad(L_i, block, retain_graph=True)``, reduced, and
    G += B_b B_bᵀ; then the block is freed. Since ⟨g_i, g_j⟩ = Σ_b ⟨g_i|_b, g_j|_b⟩ the result
    equals the full Gram exactly (up to summation order).

    Trade-off: time n_blocks·K backward passes down to each block (each pass only runs the part of
    the graph between the losses and that block, but for deep blocks that is most of the model),
    then one ordinary backward of Σ λ_i L_i; peak memory K·block_numel. With ``block_numel=None``
    (one block) it costs the same time as :class:`SubspaceAutograd` and holds K·d only while the
    Gram is formed — it is freed before the final backward allocates ``.grad`` — so the saving is
    the overlap, not the asymptotics. Smaller blocks give O(d) memory for more passes. EMA smoothing
    is not available (it needs the vectors).

    Args:
        block_numel: maximum elements per block; ``None`` puts the whole subspace in one block.

    Raises:
        ValueError: ``block_numel`` < 1.
    """

    keeps_vectors = False

    def __init__(self, block_numel: int | None = None) -> None:
        if block_numel is not None and block_numel < 1:
            raise ValueError(f"block_numel must be positive or None, got {block_numel}")
        self.block_numel = block_numel

    def blocks(self, subspace: Subspace) -> list[tuple[torch.Tensor, ...]]:
        """The consecutive parameter groups used as blocks."""
        if self.block_numel is None:
            return [subspace.params]
        out: list[tuple[torch.Tensor, ...]] = []
        current: list[torch.Tensor] = []
        size = 0
        for p in subspace.params:
            if current and size + p.numel() > self.block_numel:
                out.append(tuple(current))
                current, size = [], 0
            current.append(p)
            size += p.numel()
        out.append(tuple(current))
        return out

    def compute(
        self,
        losses: Sequence[torch.Tensor | None],
        subspace: Subspace,
        reduce: Reduce = _identity,
    ) -> PerObjectiveGradients:
        k = len(losses)
        first = subspace.params[0]
        acc = torch.float32 if first.dtype in (torch.float16, torch.bfloat16) else first.dtype
        gram = torch.zeros(k, k, dtype=acc, device=first.device)
        for block in self.blocks(subspace):
            rows = _buffer(k, block)
            for i, loss in enumerate(losses):
                if loss is not None:
                    _grads_into(rows[i], loss, block, retain_graph=True)
            gram += gram_matrix(reduce(rows))
            del rows
        return PerObjectiveGradients(gram=gram, vectors=None)


class DisjointParts:
    """Each objective's loss comes from its own part of the batch: one forward/backward per part.

    For part i the closure runs that part's forward and returns L_i; ``torch.autograd.grad`` gives
    its gradient over the subspace and any extra parameters, copied into row i of a ``[K, d +
    d_extra]`` buffer and the part's graph is freed at once. After the solve the weighting step sets
    ``.grad += Σ λ_i g_i`` — the exact gradient of Σ λ_i L_i with no second backward — with one
    ``[1, K] × [K, n_p]`` product per parameter written straight into its ``.grad``.

    Time: K forward+backward passes over 1/K of the batch each (≈ one ordinary forward+backward of
    the whole batch, less the efficiency lost to smaller batches), K gradient copies, the Gram
    (one pass over the ``[K, D]`` buffer) and the weighted sum (another pass). Nothing in it waits
    for the device: the parts queue back to back on an accelerator. Memory: K·D gradient copies
    (D = subspace plus extra parameters) and one part's activations at a time (lower peak than a
    full-batch step). Use it for the full-model (or large) subspace when each objective has its own
    data, e.g. balanced per-dataset batches.

    The ``[K, D]`` buffer is a workspace kept between calls (allocating it every step costs page
    faults and a zero fill, measured ≈ 20% of a small transformer's CPU step); it is freed with
    the strategy object.
    """

    keeps_vectors = True

    def __init__(self) -> None:
        self._buf: torch.Tensor | None = None

    def compute_parts(
        self,
        closures: Sequence[Callable[[], torch.Tensor | None]],
        params: Sequence[torch.Tensor],
        reduce: Reduce = _identity,
        check: Callable[[int, torch.Tensor], None] | None = None,
    ) -> tuple[list[torch.Tensor | None], torch.Tensor]:
        """Run each closure; return the detached losses and the reduced ``[K, Σ numel]`` gradients.

        Without distribution the returned matrix is a workspace reused by the next call.

        ``check(i, loss)`` validates each returned loss before its backward. The weighting step
        passes its type/shape/graph check there, which needs no host sync, and checks finiteness
        once for all parts after they ran; a check that reads values (e.g. ``bool(isfinite)``)
        would make every part wait for the device.
        """
        vectors = self._workspace(len(closures), params)
        losses: list[torch.Tensor | None] = []
        for i, closure in enumerate(closures):
            loss = closure()
            if loss is not None:
                if check is not None:
                    check(i, loss)
                _grads_into(vectors[i], loss, params, retain_graph=False)
                loss = loss.detach()
            else:
                vectors[i].zero_()
            losses.append(loss)
        return losses, reduce(vectors)

    def _workspace(self, k: int, params: Sequence[torch.Tensor]) -> torch.Tensor:
        # Reused across steps: a fresh K×D allocation costs page faults and a zero fill every step
        # (~20% of a small transformer's step on CPU). Every row is fully overwritten each step.
        numel = sum(p.numel() for p in params)
        first = params[0]
        buf = self._buf
        if (
            buf is None
            or buf.shape != (k, numel)
            or buf.dtype != first.dtype
            or buf.device != first.device
        ):
            buf = self._buf = torch.empty(k, numel, dtype=first.dtype, device=first.device)
        return buf
