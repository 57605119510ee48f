"""Gradient subspaces: which parameters define the per-objective gradients and their Gram matrix.

A multi-objective step (MGDA, MORE) needs per-objective gradients g_i = ∂L_i/∂θ_S on some parameter
set S, builds the Gram matrix G_ij = ⟨g_i, g_j⟩ and solves the min-norm problem on it.
:class:`Subspace` is that ordered set S. It only holds references to parameters; it never copies
them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

import torch
from torch import nn

__all__ = ["Subspace"]


class Subspace:
    """An ordered, validated tuple of trainable parameters θ_S = (p_1, ..., p_m).

    The flattened subspace vector is ``cat([p_1.reshape(-1), ..., p_m.reshape(-1)])`` of length
    :attr:`numel`; :meth:`flatten` and :meth:`unflatten` convert between that layout and
    per-parameter tensors.

    Args:
        params: the parameters, in the order that defines the flattened layout.
        names: optional names (same length), used in error messages and :meth:`named`.

    Raises:
        ValueError: empty selection, a parameter listed twice, a frozen parameter
            (``requires_grad=False``: it has no gradient to take), or ``names`` of the wrong length.
        TypeError: an entry that is not a tensor.
    """

    def __init__(self, params: Iterable[torch.Tensor], names: Sequence[str] | None = None) -> None:
        params = tuple(params)
        if not params:
            raise ValueError("empty subspace: the selection matched no parameters")
        labels = (
            tuple(names) if names is not None else tuple(f"param[{i}]" for i in range(len(params)))
        )
        if len(labels) != len(params):
            raise ValueError(f"got {len(labels)} names for {len(params)} parameters")
        seen: dict[int, str] = {}
        for label, p in zip(labels, params, strict=True):
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"subspace entry {label!r} is {type(p).__name__}, not a tensor")
            if id(p) in seen:
                raise ValueError(f"parameter {label!r} is listed twice (also as {seen[id(p)]!r})")
            seen[id(p)] = label
            if not p.requires_grad:
                raise ValueError(
                    f"parameter {label!r} is frozen (requires_grad=False); "
                    "unfreeze it or leave it out"
                )
        self.params: tuple[torch.Tensor, ...] = params
        self.names: tuple[str, ...] | None = tuple(names) if names is not None else None
        self._labels = labels
        self.numel: int = sum(p.numel() for p in params)

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_module(cls, module: nn.Module, *, skip_frozen: bool = False) -> Subspace:
        """All parameters of ``module`` (e.g. a head), named as in ``module.named_parameters()``.

        Raises ``ValueError`` on a frozen parameter unless ``skip_frozen=True`` (then frozen ones
        are left out, and an all-frozen module is an empty selection).
        """
        return cls._from_named(
            list(module.named_parameters()), skip_frozen, f"module {type(module).__name__}"
        )

    @classmethod
    def from_patterns(
        cls, model: nn.Module, patterns: str | Sequence[str], *, skip_frozen: bool = False
    ) -> Subspace:
        """Parameters of ``model`` whose ``named_parameters()`` name matches any fnmatch pattern.

        ``"*"`` matches across dots (``"*.head.*"`` matches ``"encoder.head.weight"``). A pattern
        that matches nothing is an error, since it is almost always a typo.

        Raises:
            ValueError: no pattern, a pattern matching no parameter, or an empty selection.
        """
        if isinstance(patterns, str):
            patterns = [patterns]
        if not patterns:
            raise ValueError("from_patterns needs at least one pattern")
        named = list(model.named_parameters())
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(n, pattern) for n, _ in named):
                raise ValueError(
                    f"pattern {pattern!r} matches no parameter name of {type(model).__name__} "
                    f"(names look like {[n for n, _ in named[:3]]})"
                )
        chosen = [(n, p) for n, p in named if any(fnmatch.fnmatchcase(n, pat) for pat in patterns)]
        return cls._from_named(chosen, skip_frozen, f"patterns {list(patterns)}")

    @classmethod
    def last_blocks(
        cls,
        model: nn.Module,
        module_list: Sequence[nn.Module],
        n: int,
        *,
        skip_frozen: bool = False,
    ) -> Subspace:
        """Parameters of the last ``n`` blocks of ``module_list`` (a ModuleList inside ``model``).

        Names are the full names in ``model``. Raises ``ValueError`` if ``n`` is not in
        ``1..len(module_list)`` or ``module_list`` is not a submodule of ``model``.
        """
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if not 1 <= n <= len(module_list):
            raise ValueError(f"n={n} out of range: the module list has {len(module_list)} blocks")
        prefix = next((name for name, m in model.named_modules() if m is module_list), None)
        if prefix is None:
            raise ValueError(
                f"the given {type(module_list).__name__} is not a submodule of the model"
            )
        start = len(module_list) - n
        chosen: list[tuple[str, torch.Tensor]] = []
        for i in range(start, len(module_list)):
            block_prefix = f"{prefix}.{i}." if prefix else f"{i}."
            chosen += [(block_prefix + name, p) for name, p in module_list[i].named_parameters()]
        return cls._from_named(chosen, skip_frozen, f"last {n} blocks")

    @classmethod
    def all(cls, model: nn.Module) -> Subspace:
        """Every trainable (``requires_grad=True``) parameter of ``model``; frozen ones skipped."""
        return cls._from_named(
            list(model.named_parameters()), True, f"model {type(model).__name__}"
        )

    @classmethod
    def _from_named(
        cls, named: list[tuple[str, torch.Tensor]], skip_frozen: bool, what: str
    ) -> Subspace:
        if skip_frozen:
            named = [(n, p) for n, p in named if p.requires_grad]
        if not named:
            raise ValueError(f"empty subspace: {what} has no trainable parameters")
        return cls([p for _, p in named], [n for n, _ in named])

    # -- checks and layout --------------------------------------------------------------------

    def check_in(self, model: nn.Module) -> None:
        """Raise ``ValueError`` naming the first subspace parameter that ``model`` does not own."""
        owned = {id(p) for p in model.parameters()}
        for label, p in zip(self._labels, self.params, strict=True):
            if id(p) not in owned:
                raise ValueError(
                    f"parameter {label!r} is not a parameter of {type(model).__name__}"
                )

    def named(self) -> list[tuple[str, torch.Tensor]]:
        """``(name, parameter)`` pairs; unnamed parameters are labelled ``param[i]``."""
        return list(zip(self._labels, self.params, strict=True))

    def flatten(self, tensors: Sequence[torch.Tensor | None]) -> torch.Tensor:
        """Concatenate per-parameter tensors (e.g. gradients) into one vector of :attr:`numel`.

        ``None`` entries (a parameter the loss does not reach) become zeros.

        Raises:
            ValueError: not one tensor per parameter.
        """
        if len(tensors) != len(self.params):
            raise ValueError(f"expected {len(self.params)} tensors, got {len(tensors)}")
        parts = [
            (torch.zeros_like(p) if t is None else t).reshape(-1)
            for t, p in zip(tensors, self.params, strict=True)
        ]
        return torch.cat(parts)

    def unflatten(self, vector: torch.Tensor) -> list[torch.Tensor]:
        """Split a ``[..., numel]`` tensor into views shaped like the parameters (dims kept).

        Raises:
            ValueError: the last dimension is not :attr:`numel`.
        """
        if vector.shape[-1] != self.numel:
            raise ValueError(
                f"vector has last dimension {vector.shape[-1]}, subspace has {self.numel}"
            )
        lead = vector.shape[:-1]
        sizes = [p.numel() for p in self.params]
        return [
            chunk.reshape((*lead, *p.shape))
            for chunk, p in zip(torch.split(vector, sizes, dim=-1), self.params, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.params)

    def __repr__(self) -> str:
        shown = ", ".join(self._labels[:4]) + (", ..." if len(self) > 4 else "")
        return f"Subspace({len(self)} tensors, numel={self.numel}: {shown})"
