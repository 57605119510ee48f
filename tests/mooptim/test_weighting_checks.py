"""Input checks and small helpers of the weighting step."""

from __future__ import annotations

import pytest
import torch

from mooptim._weighting_checks import add_weighted_rows, recording_presence


@pytest.mark.parametrize("existing", ["none", "contiguous", "transposed"])
@pytest.mark.parametrize("mixed", [False, True])
def test_weighted_rows_are_written_into_grad_like_backward(existing: str, mixed: bool) -> None:
    torch.manual_seed(5)
    params = [
        torch.randn(3, 4, dtype=torch.float64, requires_grad=True),
        torch.randn(4, dtype=torch.float32 if mixed else torch.float64, requires_grad=True),
        torch.randn(2, 3, dtype=torch.float64, requires_grad=True),
    ]
    vectors = torch.randn(3, sum(p.numel() for p in params), dtype=torch.float64)
    coeffs = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    before = []
    for p in params:
        if existing == "none":
            before.append(torch.zeros_like(p))
            continue
        g = torch.randn(p.shape[::-1], dtype=p.dtype)
        p.grad = g.T if existing == "transposed" and p.dim() == 2 else g.reshape(p.shape)
        before.append(p.grad.clone())
    direction = (coeffs @ vectors).split([p.numel() for p in params])
    add_weighted_rows(coeffs, vectors, params)
    for p, b, d in zip(params, before, direction, strict=True):
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype
        torch.testing.assert_close(p.grad, b + d.reshape(p.shape).to(p.dtype))


def test_recording_presence_marks_absent_parts() -> None:
    present = [True, True, True]
    closures = [lambda: torch.ones(()), lambda: None, lambda: torch.zeros(())]
    results = [c() for c in recording_presence(closures, present)]
    assert present == [True, False, True] and results[1] is None
