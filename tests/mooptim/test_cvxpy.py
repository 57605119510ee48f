"""The cvxpy reference backend: optional dependency, imported on first use only."""

from __future__ import annotations

import sys

import pytest
import torch
from _asserts import assert_simplex

from mooptim import MinNormSolver
from mooptim._cvxpy import INSTALL_HINT


def _random_gram(k: int, d: int) -> torch.Tensor:
    jac = torch.randn(k, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return jac @ jac.T


def test_missing_cvxpy_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cvxpy", None)
    with pytest.raises(ImportError, match="pip install cvxpy"):
        MinNormSolver("cvxpy").solve_gram(_random_gram(3, 3))
    assert 'pip install -e ".[cvxpy]"' in INSTALL_HINT
    assert "mooptim[" not in INSTALL_HINT  # mooptim is not on PyPI
    # The other methods never need cvxpy.
    assert_simplex(MinNormSolver().solve_gram(_random_gram(3, 3)).weights)


def test_import_does_not_need_cvxpy() -> None:
    import subprocess

    code = (
        "import sys; sys.modules['cvxpy'] = None; import mooptim; "
        "import torch; print(mooptim.MinNormSolver().solve_gram(torch.eye(2)).weights.tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[0.5, 0.5]"
