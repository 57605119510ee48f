"""The row-wise EMA of per-objective gradients."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mooptim._ema import ema_update


@settings(max_examples=30)
@given(alpha=st.floats(0.01, 0.99), steps=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_ema_update_formula(alpha: float, steps: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    state = seen = None
    manual: list[torch.Tensor | None] = [None, None, None]
    for _ in range(steps):
        new = torch.randn(3, 4, generator=gen, dtype=torch.float64)
        update = torch.rand(3, generator=gen) > 0.3
        state, seen = ema_update(state, seen, new, update, alpha)
        for i in range(3):
            if update[i]:
                manual[i] = (
                    new[i] if manual[i] is None else (1 - alpha) * manual[i] + alpha * new[i]
                )
        for i in range(3):
            if manual[i] is None:
                assert not seen[i] and torch.all(state[i] == 0)
            else:
                torch.testing.assert_close(state[i], manual[i])
