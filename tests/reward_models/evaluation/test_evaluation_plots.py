"""Tests for evaluation.plots: every figure is a valid PNG; bad input raises."""

from __future__ import annotations

import pytest
import torch

from applications.reward_models.evaluation import plots
from applications.reward_models.evaluation.metrics import calibration_errors

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == PNG


@pytest.fixture(scope="module")
def diffs():
    g = torch.Generator().manual_seed(0)
    return {
        "A": torch.randn(50, generator=g) * 2 + 1,
        "B": torch.cat([torch.randn(49, generator=g), torch.zeros(1)]),
    }


def test_reliability_diagrams(tmp_path, diffs):
    cals = {k: calibration_errors(v).to_dict() for k, v in diffs.items()}
    cals["C"] = calibration_errors(torch.tensor([0.0, 3.0])).to_dict()
    assert any(v is None for v in cals["C"]["bin_accuracy"])  # empty bins are drawn too
    path = plots.reliability_diagrams(cals, tmp_path / "sub" / "rel.png", title="t")
    assert _is_png(path)


def test_boxplots_and_histograms(tmp_path, diffs):
    assert _is_png(plots.reward_diff_boxplots(diffs, tmp_path / "box.png"))
    assert _is_png(plots.margin_histograms(diffs, tmp_path / "hist.png"))
    assert _is_png(plots.margin_histograms({"zeros": torch.zeros(3)}, tmp_path / "z.png"))


def test_accuracy_matrix(tmp_path):
    path = plots.accuracy_matrix(
        [[0.7, None], [0.4, 0.9]], ["a", "b"], ["x", "y"], tmp_path / "m.png"
    )
    assert _is_png(path)
    with pytest.raises(ValueError, match="matrix"):
        plots.accuracy_matrix([[0.7]], ["a", "b"], ["x"], tmp_path / "bad.png")


def test_sweep_plot(tmp_path):
    series = {"MultiTask": [[0.1, 0.2], [0.15], [None]], "MORE": [[0.05], [0.07, 0.09], [0.1]]}
    assert _is_png(plots.sweep_plot("K", [2, 3, 4], series, tmp_path / "s.png", "ECE"))
    names = plots.sweep_plot(
        "model", ["minilm", "smollm2"], {"MORE": [[0.1], [0.2]]}, tmp_path / "n.png", "ECE"
    )
    assert _is_png(names)
    with pytest.raises(ValueError, match="points"):
        plots.sweep_plot("K", [2, 3], series, tmp_path / "s2.png", "ECE")


def test_empty_inputs_raise(tmp_path):
    with pytest.raises(ValueError, match="no"):
        plots.reward_diff_boxplots({}, tmp_path / "e.png")
    with pytest.raises(ValueError, match="no"):
        plots.reliability_diagrams({}, tmp_path / "e.png")


def test_no_global_backend_change(tmp_path, diffs):
    import matplotlib

    before = matplotlib.get_backend()
    plots.reward_diff_boxplots(diffs, tmp_path / "b.png")
    assert matplotlib.get_backend() == before
