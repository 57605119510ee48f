"""``MinNormSolver``: the public, validating front-end of the min-norm (MGDA) solvers.

Solves, for every problem of a batch, ``λ* = argmin_{λ ≥ 0, Σλ = 1} λᵀGλ`` where ``G = J Jᵀ`` is
the Gram matrix of K objective vectors (gradients) ``J = [g_1; …; g_K]``. ``Σ λ*_i g_i`` is the
min-norm point of their convex hull: the common descent direction of MGDA (Désidéri 2012;
Sener & Koltun 2018).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import Tensor

from mooptim._cvxpy import cvxpy_min_norm
from mooptim._exact import min_norm_2, wolfe_min_norm, wolfe_min_norm_single
from mooptim._exact_small import kkt_certificate_rows, min_norm_2_rows, wolfe_min_norm_rows
from mooptim._frank_wolfe import frank_wolfe_min_norm
from mooptim._projected_gradient import projected_gradient_min_norm
from mooptim._result import (
    MinNormResult,
    gram_scale,
    kkt_certificate,
    kkt_certificate_host,
    project_to_simplex_safe,
    project_to_simplex_safe_host,
)
from mooptim._validation import (
    check_gram_shape,
    default_tolerance,
    diagonal_scale,
    symmetrize_rows,
    validate_gram,
    validate_gram_host,
    validate_gram_rows,
    validate_vectors,
    validate_warm_start,
)

Method = Literal["exact", "frank_wolfe", "projected_gradient", "cvxpy"]
METHODS: tuple[str, ...] = ("exact", "frank_wolfe", "projected_gradient", "cvxpy")
# One CPU problem with at most this many objectives is solved in plain Python floats (cheaper than
# numpy below it, measured in benchmarks/solvers.py); larger ones with numpy.
SMALL_K = 12
_DEFAULT_TOL = {"exact": 1e-12, "frank_wolfe": 1e-6, "projected_gradient": 1e-6, "cvxpy": 1e-8}


class MinNormSolver:
    """Configured min-norm solver; call :meth:`solve_gram` or :meth:`solve`.

    Methods (all batched over leading dimensions, run on the input's device in float64 on the
    Gram normalised by ``s = max_i G_ii``, which leaves λ unchanged):

    * ``"exact"`` (default): Wolfe's finite active-set min-norm-point algorithm, K = 2 in closed
      form. Warm start: its support is the initial active set (a good guess saves solves).
    * ``"frank_wolfe"``: MGDA Frank-Wolfe (Sener & Koltun 2018, Alg. 2) with exact line search,
      stopping on ``duality_gap ≤ tol·s``; at most ``max_iter`` steps. Warm start: first iterate.
    * ``"projected_gradient"``: projected gradient with sort-based simplex projection and exact
      line search; at most ``max_iter`` steps. Warm start: the first iterate.
    * ``"cvxpy"``: reference QP through cvxpy/Clarabel, a Python loop over problems. Warm start:
      ignored (interior-point methods do not warm start).

    Args:
        method: one of ``"exact"``, ``"frank_wolfe"``, ``"projected_gradient"``, ``"cvxpy"``.
        tol: stopping tolerance, relative to ``s``: Wolfe's test ``λᵀGλ − min_i(Gλ)_i ≤ tol·s``
            for ``exact`` (default 1e-12), ``duality_gap ≤ tol·s`` for ``frank_wolfe`` and
            ``kkt_residual ≤ tol`` for ``projected_gradient`` (default 1e-6 both); unused by
            ``cvxpy`` (fixed tight Clarabel tolerances).
        max_iter: iteration cap per problem (default ``50 + 10K`` for ``exact``, 1000 otherwise;
            ignored by ``cvxpy``).
        check_input: run the value checks (NaN/Inf, symmetry, PSD via a shifted Cholesky); the
            shape checks always run. Turn off to skip their host syncs in a hot loop.
        input_tol: relative tolerance of the symmetry and PSD checks (default ``sqrt(eps)`` of
            the input dtype).
        check_every: iterative methods test convergence on the host every this many steps.
        stateful: reuse the weights of the previous call as warm start when no warm start is
            given and the problem shape matches (e.g. one solve per training step).

    Results are detached (no gradient flows through the solve).

    Raises:
        ValueError: unknown method or non-positive tol/max_iter.
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
        stateful: bool = False,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown min-norm method {method!r}; choose one of {METHODS}")
        if tol is not None and not tol > 0:
            raise ValueError(f"tol must be > 0, got {tol}")
        if max_iter is not None and max_iter < 1:
            raise ValueError(f"max_iter must be ≥ 1, got {max_iter}")
        if check_every < 1:
            raise ValueError(f"check_every must be ≥ 1, got {check_every}")
        self.method = method
        self.tol = _DEFAULT_TOL[method] if tol is None else float(tol)
        self.max_iter = max_iter
        self.check_input = check_input
        self.input_tol = input_tol
        self.check_every = check_every
        self.stateful = stateful
        self._previous: Tensor | None = None

    def __repr__(self) -> str:
        return f"MinNormSolver({self.method!r}, tol={self.tol:g}, max_iter={self.max_iter})"

    def reset(self) -> None:
        """Forget the weights remembered by a ``stateful`` solver."""
        self._previous = None

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
        k = check_gram_shape(gram)
        if self._use_host(gram) and k <= SMALL_K:
            rows = gram.detach().tolist()
            if self.check_input:
                rows = validate_gram_rows(rows, self._input_tol(gram.dtype))
            else:
                rows = symmetrize_rows(rows)
            return self._solve_rows(rows, warm_start, gram.dtype)
        if self._use_host(gram):
            g = gram.detach().to(torch.float64).numpy()
            if self.check_input:
                g = validate_gram_host(g, self._input_tol(gram.dtype))  # returns it symmetrised
            else:
                g = 0.5 * (g + g.T)
            return self._solve_host(g, warm_start, gram.dtype)
        g = validate_gram(gram.detach(), check_values=self.check_input, tol=self.input_tol)
        return self._solve(g, warm_start, gram.dtype)

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
        if self._use_host(vectors):
            if g.shape[-1] <= SMALL_K:
                return self._solve_rows(g.tolist(), warm_start, vectors.dtype)
            return self._solve_host(g.numpy(), warm_start, vectors.dtype)
        return self._solve(g, warm_start, vectors.dtype)

    def _input_tol(self, dtype: torch.dtype) -> float:
        return default_tolerance(dtype) if self.input_tol is None else float(self.input_tol)

    def _use_host(self, x: Tensor) -> bool:
        # One CPU problem: plain floats or numpy on the support beat batched torch masks.
        return self.method == "exact" and x.dim() == 2 and x.device.type == "cpu"

    def _host_warm_start(self, warm_start: Tensor | None, k: int) -> Tensor | None:
        if warm_start is not None:
            return validate_warm_start(warm_start.cpu(), torch.Size([]), k)
        if self._previous is not None and self._previous.shape == (k,):
            return self._previous.cpu()
        return None

    def _solve_rows(
        self, rows: list[list[float]], warm_start: Tensor | None, dtype: torch.dtype
    ) -> MinNormResult:
        """One small symmetric CPU problem in plain floats (see :mod:`mooptim._exact_small`)."""
        k = len(rows)
        scale = diagonal_scale(rows)
        warm = self._host_warm_start(warm_start, k)
        iters, ok = 0, True
        if scale == 0:
            support, coef = list(range(k)), [1.0 / k] * k
        elif k == 1:
            support, coef = [0], [1.0]
        elif k == 2:
            support, coef, iters = [0, 1], min_norm_2_rows(rows), 1
        else:
            support, coef, iters, ok = wolfe_min_norm_rows(
                rows,
                scale,
                None if warm is None else warm.tolist(),
                tol=self.tol,
                max_iter=self.max_iter,
            )
        certificate = kkt_certificate_rows(rows, support, coef, scale or 1.0)
        lam = [0.0] * k
        for s, c in zip(support, coef, strict=True):
            lam[s] = c
        return self._host_result(lam, certificate, iters, ok, dtype)

    def _host_result(
        self,
        lam: list[float],
        certificate: tuple[float, float, float],
        iters: int,
        ok: bool,
        dtype: torch.dtype,
    ) -> MinNormResult:
        """The result of one host problem; ``certificate`` is ``(f, duality_gap, kkt_residual)``.

        Every field is made by the same ``torch.tensor`` call: after other work has evicted the
        caches, one code path is much cheaper than a slice, an unbind and a cast (measured).
        """
        f, gap, residual = certificate
        weights = torch.tensor(lam, dtype=dtype)
        if self.stateful:
            same = dtype == torch.float64
            self._previous = weights if same else torch.tensor(lam, dtype=torch.float64)
        return MinNormResult(
            weights=weights,
            min_norm_sq=torch.tensor(f, dtype=dtype),
            iterations=torch.tensor(iters),
            kkt_residual=torch.tensor(residual, dtype=dtype),
            duality_gap=torch.tensor(gap, dtype=dtype),
            converged=torch.tensor(ok),
        )

    def _solve_host(
        self, g: np.ndarray, warm_start: Tensor | None, dtype: torch.dtype
    ) -> MinNormResult:
        """One larger CPU problem with numpy (the corral solves dominate; see SMALL_K)."""
        k = g.shape[0]
        warm = self._host_warm_start(warm_start, k)
        raw_scale = float(np.abs(np.diagonal(g)).max())
        gn = g / (raw_scale or 1.0)
        iters, ok = 0, True
        if raw_scale == 0:
            lam = np.full(k, 1.0 / k)
        else:
            lam, iters, ok = wolfe_min_norm_single(
                gn, None if warm is None else warm.numpy(), tol=self.tol, max_iter=self.max_iter
            )
        lam = project_to_simplex_safe_host(lam)
        f, gap, residual = kkt_certificate_host(gn, lam)
        certificate = (f * raw_scale, gap * raw_scale, residual)
        return self._host_result(lam.tolist(), certificate, iters, ok, dtype)

    def _solve(self, g: Tensor, warm_start: Tensor | None, dtype: torch.dtype) -> MinNormResult:
        batch_shape, k = g.shape[:-2], g.shape[-1]
        warm = None
        if warm_start is not None:
            warm = validate_warm_start(warm_start, batch_shape, k).to(g.device)
        elif self._previous is not None and self._previous.shape == (*batch_shape, k):
            warm = self._previous.to(g.device)
        flat = g.reshape(-1, k, k)
        bsz = flat.shape[0]
        raw_scale = flat.diagonal(dim1=-2, dim2=-1).abs().amax(-1)
        scale = gram_scale(flat)
        gn = flat / scale.view(-1, 1, 1)
        warm_flat = None if warm is None else warm.reshape(bsz, k)
        weights, iters, converged = self._dispatch(gn, warm_flat)
        zero = (raw_scale == 0).unsqueeze(-1)
        weights = torch.where(zero, 1.0 / k, project_to_simplex_safe(weights))
        f, gap, residual = kkt_certificate(gn, weights)
        if self.stateful:
            self._previous = weights.reshape((*batch_shape, k)).detach()

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
        max_iter = self.max_iter
        if self.method == "exact":
            if k == 2:
                ones = torch.ones(bsz, dtype=torch.int64, device=gn.device)
                return min_norm_2(gn), ones, torch.ones_like(ones, dtype=torch.bool)
            return wolfe_min_norm(gn, warm, tol=self.tol, max_iter=max_iter)
        if self.method == "cvxpy":
            return cvxpy_min_norm(gn)
        fn = frank_wolfe_min_norm if self.method == "frank_wolfe" else projected_gradient_min_norm
        return fn(
            gn,
            warm,
            tol=self.tol,
            max_iter=1000 if max_iter is None else max_iter,
            check_every=self.check_every,
        )
