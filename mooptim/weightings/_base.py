"""The interface of every weighting: a Gramian ``[..., K, K]`` in, weights ``[..., K]`` out.

A weighting maps the Gram matrix ``G = J Jᵀ`` of K objective gradients (the rows of the Jacobian
``J``) to K weights ``w``; the update direction is then ``Jᵀ w = Σ_i w_i g_i`` and the loss to
backpropagate ``Σ_i w_i L_i``. This is TorchJD's "Gramian weighting" view (Quinton & Rey 2024,
"Jacobian Descent for Multi-Objective Optimization"): every method of the family needs the
gradients only through their inner products.

:class:`Weighting` holds the contract once: it validates the input (shape, dtype, finiteness,
naming the first bad problem of a batch), flattens the leading dimensions, computes in float64
on the input's device with the subclass's pure function of the Gramian, and returns the weights in
the input's dtype with the leading dimensions restored. Subclasses implement :meth:`_weights`
(a pure function of ``[B, K, K]`` float64) and, where they keep state, :meth:`state_dict` /
:meth:`load_state_dict`.

One ``[K, K]`` problem on the CPU (the common call in a training step) is dispatch-bound: a
dozen tiny torch ops cost more to dispatch than to compute. A subclass that has a host twin of
its mathematics implements :meth:`_weights_on_host` (numpy in, ``[K]`` float64 tensor out); the
call then validates and symmetrises with numpy and hands it the array. Anything the host path
does not take (another dtype, a bad shape, a non-finite entry) goes the general way, so the
errors are the same.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from mooptim._validation import check_gram_shape

__all__ = ["Weighting"]


def _first_bad(mask: Tensor, batch_shape: torch.Size) -> str:
    """`` (problem i of the batch)`` for the first True entry of the flat ``mask``, or ``""``."""
    if not batch_shape:
        return ""
    flat = int(torch.nonzero(mask)[0, 0])
    index = list(torch.unravel_index(torch.tensor(flat), batch_shape))
    where = tuple(int(i) for i in index)
    return f" (problem {where if len(where) > 1 else where[0]} of the batch)"


def _flat_float64(x: Tensor, k: int) -> Tensor:
    """``x`` as float64 ``[B, K, K]``: no copy and no op when it already is one."""
    if x.dtype != torch.float64:
        x = x.to(torch.float64)
    return x if x.dim() == 3 else x.reshape(-1, k, k)


def _check_finite(flat: Tensor, batch_shape: torch.Size, message: str) -> None:
    """Raise ``ValueError(message + where)`` if ``flat`` ``[B, ...]`` has a NaN or Inf entry.

    One reduction and one host read prove finiteness (a NaN/Inf entry makes the sum NaN/Inf);
    only when the sum is not finite (a bad entry, or finite entries whose sum overflows) does the
    per-problem test run, to confirm and locate the first bad problem.
    """
    if math.isfinite(flat.sum()):  # one op and one host read (Tensor.__float__)
        return
    finite = torch.isfinite(flat).flatten(1).all(-1)
    if not bool(finite.all()):
        raise ValueError(f"{message}{_first_bad(~finite, batch_shape)}")


@functools.lru_cache(maxsize=64)
def _tiny(n: int) -> np.ndarray:
    """A read-only float64 vector of n entries 2^-600 (built once per size)."""
    tiny = np.full(n, 2.0**-600)
    tiny.flags.writeable = False
    return tiny


class Weighting(ABC):
    """A map from Gramians ``[..., K, K]`` to weights ``[..., K]``, batched over leading dims.

    Calling a weighting validates the Gramian (a real floating tensor, square in its last two
    dimensions, K ≥ 1, every entry finite), runs :meth:`_weights` on it in float64 as ``[B, K, K]``
    and returns ``[..., K]`` weights in the input's dtype and on its device. The checks cost one
    host read (finiteness); everything else stays on the device. One float32/float64 ``[K, K]``
    Gramian on the CPU goes to the method's numpy twin where it has one (mgda, mean, random,
    imtl_g, aligned_mtl, pcgrad, fairgrad): same checks, same answers, a few µs instead of a
    few dozen, as a training step calls the weighting once per step on one small Gramian.

    Loss-based methods (``needs_losses = True``) also take the ``[..., K]`` loss values; a
    Gramian-only method ignores them.

    Attributes:
        name: the registry name (``mooptim.weightings.WEIGHTINGS[name] is type(self)``).
        needs_losses: the method reads the loss values (``losses=`` must be given).
        stateful: the method keeps state between calls (see :meth:`state_dict`).
        reads_gramian: the weights depend on the Gramian's values (False: only on its shape, so
            the call skips symmetrising it; the finiteness check still runs).
    """

    name: ClassVar[str]
    needs_losses: ClassVar[bool] = False
    stateful: ClassVar[bool] = False
    # False for a method whose weights ignore the Gramian's values (it skips symmetrising them).
    reads_gramian: ClassVar[bool] = True
    # The subclass implements _weights_on_host (set by __init_subclass__).
    _host_twin: ClassVar[bool] = False

    def __call__(self, gramian: Tensor, /, losses: Tensor | None = None) -> Tensor:
        """Weights ``[..., K]`` of the Gramians ``[..., K, K]`` (and ``[..., K]`` losses).

        Raises:
            TypeError: not a real floating tensor.
            ValueError: bad shape, K = 0, a NaN/Inf entry (naming the problem of the batch),
                missing or misshapen losses for a loss-based method.
        """
        if (
            self._host_twin
            and losses is None
            and type(gramian) is Tensor
            and gramian.ndim == 2
            and gramian.is_cpu
            and (gramian.dtype is torch.float64 or gramian.dtype is torch.float32)
        ):
            try:
                array = gramian.numpy()
            except RuntimeError:  # it requires grad or is a negative-bit view
                array = None
            if array is not None:
                weights = self._call_on_host(array, gramian.dtype is torch.float32)
                if weights is not None:
                    return weights
        k = check_gram_shape(gramian)
        batch_shape = gramian.shape[:-2]
        flat = _flat_float64(gramian.detach(), k)
        _check_finite(flat, batch_shape, "gramian contains NaN or Inf")
        flat_losses = self._check_losses(losses, batch_shape, k, gramian.device)
        if flat.shape[0] == 0:
            weights = flat.new_zeros(0, k)
        else:
            symmetric = 0.5 * (flat + flat.mT) if self.reads_gramian else flat
            weights = self._weights(symmetric, flat_losses)
        if weights.dim() != len(batch_shape) + 1:
            weights = weights.reshape(*batch_shape, k)
        return weights if weights.dtype == gramian.dtype else weights.to(gramian.dtype)

    @abstractmethod
    def _weights(self, gramian: Tensor, losses: Tensor | None) -> Tensor:
        """``[B, K]`` float64 weights of the symmetrised float64 Gramians ``[B, K, K]``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Decided once per class, not per call: the method has a host twin the call can take.
        cls._host_twin = (
            not cls.needs_losses and cls._weights_on_host is not Weighting._weights_on_host
        )

    def _weights_on_host(self, gramian: np.ndarray) -> Tensor | None:
        """``[K]`` float64 weights of one symmetrised float64 ``[K, K]`` numpy Gramian: the host
        twin of :meth:`_weights` (same answers, same errors), or ``None`` where there is none."""
        return None

    def _call_on_host(self, array: np.ndarray, single: bool) -> Tensor | None:
        """The call on one ``[K, K]`` CPU Gramian (its numpy view; ``single``: float32) with
        numpy checks, or ``None``: take the general path (a bad shape, or a sum that is not
        finite, where the general check locates a bad entry or finds finite entries whose sum
        overflows)."""
        k, k2 = array.shape
        # One dot product proves finiteness at half the cost of np.sum on these tiny arrays: a
        # NaN/Inf entry makes it NaN/Inf, and the weights 2^-600 keep finite entries from
        # overflowing it (which would warn), down to the largest float64.
        if k != k2 or k == 0 or not math.isfinite(array.ravel().dot(_tiny(k * k))):
            return None
        if single:
            array = array.astype(np.float64)
        weights = self._weights_on_host(0.5 * (array + array.T) if self.reads_gramian else array)
        return weights.to(torch.float32) if single and weights is not None else weights

    # -- configuration and state -----------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The method's name and hyperparameters: ``weighting_from_name(**config)`` rebuilds it."""
        return {"name": self.name, **self.hyperparameters()}

    def hyperparameters(self) -> dict[str, Any]:
        """The keyword arguments of the constructor and their values (JSON-serialisable)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """State carried between calls (empty for a stateless method)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output.

        Raises:
            ValueError: the state belongs to another method or is malformed.
        """
        if state:
            raise ValueError(f"{self.name} keeps no state, got keys {sorted(state)}")

    def reset(self) -> None:
        """Forget the state carried between calls (no-op for a stateless method)."""
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    # -- internals -------------------------------------------------------------------------

    def _check_losses(
        self, losses: Tensor | None, batch_shape: torch.Size, k: int, device: torch.device
    ) -> Tensor | None:
        if not self.needs_losses:
            return None
        if losses is None:
            raise ValueError(f"the {self.name} weighting needs the loss values: pass losses=")
        if not isinstance(losses, Tensor) or tuple(losses.shape) != (*batch_shape, k):
            shape = tuple(losses.shape) if isinstance(losses, Tensor) else type(losses).__name__
            raise ValueError(f"losses must have shape {(*batch_shape, k)}, got {shape}")
        flat = losses.detach().to(device=device, dtype=torch.float64).reshape(-1, k)
        _check_finite(flat, batch_shape, "losses contain NaN or Inf")
        return flat
