"""``MinNormSolver``: the public, validating front-end of the min-norm (MGDA) solvers.

Solves, for every problem of a batch, ``λ* = argmin_{λ ≥ 0, Σλ = 1} λᵀGλ`` where ``G = J Jᵀ`` is
the Gram matrix of K objective vectors (gradients) ``J = [g_1; …; g_K]``. ``Σ λ*_i g_i`` is the
min-norm point of their convex hull: the common descent direction of MGDA (Désidéri 2012;
Sener & Koltun 2018).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from mooptim._backends import BACKENDS, METHODS
from mooptim._certificate import gram_scale, kkt_certificate, project_to_simplex_safe
from mooptim._host import solve_on_host, weights_on_host
from mooptim._result import MinNormResult
from mooptim._validation import (
    check_gram_shape,
    check_positive_int,
    check_positive_real,
    default_tolerance,
    validate_gram,
    validate_vectors,
    validate_warm_start,
)

__all__ = ["METHODS", "Method", "MinNormSolver"]

Method = Literal["exact", "frank_wolfe", "projected_gradient", "cvxpy"]


class MinNormSolver:
    """Configured min-norm solver; call :meth:`solve_gram` or :meth:`solve`.

    Methods (all batched over leading dimensions, run on the input's device in float64 on the
    Gram normalised by ``s = max_i G_ii``, which leaves λ unchanged):

    * ``"exact"`` (default): Wolfe's finite active-set min-norm-point algorithm (Wolfe 1976),
      K = 2 in closed form. Warm start: its support is the initial active set (a good guess saves
      solves). One CPU problem is solved in plain floats (K ≤ 12) or numpy, not torch.
    * ``"frank_wolfe"``: MGDA Frank-Wolfe (Sener & Koltun 2018, Alg. 2) with exact line search,
      stopping on ``duality_gap ≤ tol·s``; at most ``max_iter`` steps. Warm start: first iterate.
    * ``"projected_gradient"``: projected gradient with sort-based simplex projection and exact
      line search; at most ``max_iter`` steps. Warm start: the first iterate.
    * ``"cvxpy"``: reference QP through cvxpy/Clarabel, a Python loop over problems. Warm start:
      ignored (interior-point methods do not warm start).

    The solver holds configuration only: the same call gives the same answer. A training loop
    passes the previous step's λ as ``warm_start`` (:class:`mooptim.MinNormWeighting` does).

    Args:
        method: one of :data:`METHODS`: ``"exact"``, ``"frank_wolfe"``,
            ``"projected_gradient"``, ``"cvxpy"``.
        tol: stopping tolerance, relative to ``s``: Wolfe's test ``λᵀGλ − min_i(Gλ)_i ≤ tol·s``
            for ``exact`` (default 1e-12), ``duality_gap ≤ tol·s`` for ``frank_wolfe`` and
            ``kkt_residual ≤ tol`` for ``projected_gradient`` (default 1e-6 both); unused by
            ``cvxpy`` (fixed tight Clarabel tolerances).
        max_iter: iteration cap per problem (default ``50 + 10K`` for ``exact``, 1000 otherwise;
            ignored by ``cvxpy``).
        check_input: run the value checks (NaN/Inf, symmetry, PSD via a shifted Cholesky); the
            shape checks always run. Turn off to skip their host syncs in a hot loop. Unchecked,
            a problem with a NaN/Inf entry is never reported solved: it gets uniform weights,
            ``converged=False`` and a NaN certificate.
        input_tol: relative tolerance of the symmetry and PSD checks (default ``sqrt(eps)`` of
            the input dtype).
        check_every: iterative methods test convergence on the host every this many steps.

    Results are detached (no gradient flows through the solve).

    Raises:
        ValueError: unknown method; ``tol`` or ``input_tol`` NaN, infinite or ≤ 0;
            ``max_iter`` or ``check_every`` < 1.
        TypeError: ``tol``/``input_tol`` not a number, ``max_iter``/``check_every`` not an
            ``int`` (a bool such as ``max_iter=True`` is refused, not read as 1), ``check_input``
            not a bool.
    """

    def __init__(
        self,
        method: Method | str = "exact",
        *,
        tol: float | None = None,
        max_iter: int | None = None,
        check_input: bool = True,
        input_tol: float | None = None,
        check_every: int = 16,
    ) -> None:
        if method not in BACKENDS:
            raise ValueError(f"unknown min-norm method {method!r}; choose one of {METHODS}")
        tol = check_positive_real(tol, "tol")
        if not isinstance(check_input, bool):
            raise TypeError(f"check_input must be True or False, got {check_input!r}")
        self.method = method
        self.tol = BACKENDS[method].default_tol if tol is None else tol
        self.max_iter = check_positive_int(max_iter, "max_iter")
        self.check_input = check_input
        self.input_tol = check_positive_real(input_tol, "input_tol")
        self.check_every = check_positive_int(check_every, "check_every", allow_none=False)

    def __repr__(self) -> str:
        return f"MinNormSolver({self.method!r}, tol={self.tol:g}, max_iter={self.max_iter})"

    def solve_gram(self, gram: Tensor, warm_start: Tensor | None = None) -> MinNormResult:
        """Solve ``min_{λ∈Δ} λᵀGλ`` for ``gram`` of shape ``[..., K, K]``.

        Args:
            gram: symmetric PSD Gram matrices (real floating dtype).
            warm_start: optional ``[..., K]`` simplex points (see the class docstring).

        Returns:
            :class:`MinNormResult` in the dtype and on the device of ``gram``.

        Raises:
            TypeError: non-floating input.
            ValueError: bad shape, K = 0, NaN/Inf, asymmetric or indefinite Gram (beyond
                ``input_tol``), or a warm start of the wrong shape / off the simplex.
        """
        check_gram_shape(gram)
        if self._on_host(gram):
            check = self._input_tol(gram.dtype) if self.check_input else None
            return self._solve_on_host(gram.detach(), warm_start, check, gram.dtype)
        g = validate_gram(gram.detach(), check_values=self.check_input, tol=self.input_tol)
        return self._solve(g, warm_start, gram.dtype)

    def solve_gram_weights(self, gram: Tensor) -> Tensor:
        """The weights ``[..., K]`` of :meth:`solve_gram` (no warm start), same checks and solve.

        One CPU problem skips building the certificate tensors it would not read (the
        single-problem hot path of :class:`mooptim.weightings.MGDAWeighting`).
        """
        check_gram_shape(gram)
        if not self._on_host(gram):
            return self.solve_gram(gram).weights
        check = self._input_tol(gram.dtype) if self.check_input else None
        weights = weights_on_host(
            gram.detach(), input_tol=check, symmetric=False, tol=self.tol, max_iter=self.max_iter
        )
        return weights if gram.dtype == torch.float64 else weights.to(gram.dtype)

    def solve(self, vectors: Tensor, warm_start: Tensor | None = None) -> MinNormResult:
        """Solve the min-norm problem of the vectors ``[..., K, d]`` (e.g. K gradients).

        The Gram ``G = V Vᵀ`` is formed in float64 (so float32/bfloat16 gradients at any scale
        neither underflow nor overflow); it is PSD by construction, so only finiteness is checked.

        Raises:
            ValueError: K = 0, a NaN/Inf entry (naming the objective index), or a bad warm start.
        """
        validate_vectors(vectors, check_values=self.check_input)
        v = vectors.detach().to(torch.float64)
        g = v @ v.mT
        g = 0.5 * (g + g.mT)
        if self.check_input and not bool(torch.isfinite(g).all()):
            raise ValueError("vectors are too large: their Gram matrix overflows float64")
        if self._on_host(vectors):
            return self._solve_on_host(g, warm_start, None, vectors.dtype, symmetric=True)
        return self._solve(g, warm_start, vectors.dtype)

    def _input_tol(self, dtype: torch.dtype) -> float:
        return default_tolerance(dtype) if self.input_tol is None else float(self.input_tol)

    def _on_host(self, x: Tensor) -> bool:
        # One CPU problem: plain floats or numpy on the support beat batched torch masks.
        return BACKENDS[self.method].host and x.dim() == 2 and x.device.type == "cpu"

    def _solve_on_host(
        self,
        gram: Tensor,
        warm_start: Tensor | None,
        input_tol: float | None,
        dtype: torch.dtype,
        symmetric: bool = False,
    ) -> MinNormResult:
        warm = None
        if warm_start is not None:
            warm = validate_warm_start(warm_start.cpu(), torch.Size([]), gram.shape[-1])
        return solve_on_host(
            gram,
            warm,
            input_tol=input_tol,
            symmetric=symmetric,
            dtype=dtype,
            tol=self.tol,
            max_iter=self.max_iter,
        )

    def _solve(self, g: Tensor, warm_start: Tensor | None, dtype: torch.dtype) -> MinNormResult:
        """The batched path: normalise, solve with the method's backend, project and certify."""
        batch_shape, k = g.shape[:-2], g.shape[-1]
        flat = g.reshape(-1, k, k)
        warm = None
        if warm_start is not None:
            warm = validate_warm_start(warm_start, batch_shape, k).to(g.device)
            warm = warm.reshape(flat.shape[0], k)
        raw_scale = flat.diagonal(dim1=-2, dim2=-1).abs().amax(-1)
        gn = flat / gram_scale(flat).view(-1, 1, 1)
        weights, iters, converged = self._dispatch(gn, warm)
        finite = torch.isfinite(flat).flatten(1).all(-1) if not self.check_input else None
        uniform = (raw_scale == 0) if finite is None else (raw_scale == 0) | ~finite
        weights = torch.where(uniform.unsqueeze(-1), 1.0 / k, project_to_simplex_safe(weights))
        f, gap, residual = kkt_certificate(gn, weights)
        if finite is not None:  # no host sync: a non-finite problem is never reported solved
            converged = converged & finite
            f, gap, residual = (torch.where(finite, x, torch.nan) for x in (f, gap, residual))

        def out(x: Tensor, dt: torch.dtype | None = dtype) -> Tensor:
            x = x.reshape((*batch_shape, *x.shape[1:]))
            return x if dt is None else x.to(dt)

        return MinNormResult(
            weights=out(weights),
            min_norm_sq=out(f * raw_scale),
            iterations=out(iters, None),
            kkt_residual=out(residual),
            duality_gap=out(gap * raw_scale),
            converged=out(converged, None),
        )

    def _dispatch(self, gn: Tensor, warm: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        bsz, k = gn.shape[0], gn.shape[-1]
        if bsz == 0 or k == 1:
            ones = torch.ones(bsz, k, dtype=gn.dtype, device=gn.device)
            zeros = torch.zeros(bsz, dtype=torch.int64, device=gn.device)
            return ones, zeros, torch.ones(bsz, dtype=torch.bool, device=gn.device)
        solve = BACKENDS[self.method].solve
        return solve(gn, warm, self.tol, self.max_iter, self.check_every)
