"""The random source of the randomised weightings (``random``, ``pcgrad``): a seeded generator.

A randomised weighting draws from its own :class:`torch.Generator`, never from torch's global
RNG, so two weightings built with the same seed give the same weights whatever else the program
draws; the generator's state is the weighting's ``state_dict``, so a resumed run continues the
same stream. Without a seed, the generator is seeded once, at construction, from torch's global
RNG: ``torch.manual_seed(s)`` before building the weighting makes an unseeded run reproducible.
"""

from __future__ import annotations

from typing import Any

import torch

from mooptim.weightings._base import Weighting

__all__ = ["SeededWeighting"]


def _seeded_generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    if seed is None:
        seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
    return torch.Generator().manual_seed(int(seed))


class SeededWeighting(Weighting):
    """Base of the weightings that draw random numbers: the generator, its state, the seed.

    Args:
        seed: seed of the weighting's own CPU generator (drawn from torch's global RNG when
            ``None``).
        generator: a generator to draw from instead (for example one on the GPU, so the draws
            need no host-to-device copy); mutually exclusive with ``seed``. Its state is not
            part of :meth:`config` (which then says ``seed=None``) but is the ``state_dict``.
    """

    stateful = True

    def __init__(self, seed: int | None = None, *, generator: torch.Generator | None = None):
        self.seed = seed
        self.generator = _seeded_generator(seed, generator)
        # Read once: Generator.device builds a new torch.device on every access.
        self._generator_on_cpu = self.generator.device.type == "cpu"
        self._initial_state = self.generator.get_state()

    def hyperparameters(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if set(state) != {"generator"} or not isinstance(state["generator"], torch.Tensor):
            raise ValueError(
                f"{self.name} state must be {{'generator': ByteTensor}}, got keys {sorted(state)}"
            )
        self.generator.set_state(state["generator"])

    def reset(self) -> None:
        """Rewind the generator to its state at construction (the same draws again)."""
        self.generator.set_state(self._initial_state)
