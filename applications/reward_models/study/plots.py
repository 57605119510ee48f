"""Figures of ``study.json``: calibration-slice curves and the per-step λ / gradient logs.

``curves.png``: ECE, gold ECE and NLL on the calibration slice against the step, one line per
variant (mean over runs). ``diagnostics.png``: the starvation share, the mean head-gradient
cosine and the effective rank of the head-gradient Gram against the step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["study_plots"]


def _panel(ax, series: Mapping[str, tuple[list, list]], title: str) -> None:
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name, lw=1.2)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)


def _figure(path: str, panels: list[tuple[str, dict[str, tuple[list, list]]]]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(t, s) for t, s in panels if s]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels, strict=True):
        _panel(ax, series, title)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def study_plots(study: Mapping[str, Any], directory: str) -> list[str]:
    """Write the figures of ``study`` into ``directory``; return their paths."""
    os.makedirs(directory, exist_ok=True)
    curves = study.get("curves") or {}

    def curve(key: str) -> dict[str, tuple[list, list]]:
        return {v: ([p["step"] for p in c], [p[key] for p in c])
                for v, c in curves.items() if c and key in c[0]}  # fmt: skip

    logs = study.get("logs") or {}

    def log(key: str) -> dict[str, tuple[list, list]]:
        return {v: (g["series"]["step"], g["series"][key]) for v, g in logs.items()}

    out = [
        _figure(os.path.join(directory, "curves.png"),
                [("ECE, calibration slice", curve("ece")), ("gold ECE", curve("gold_ece")),
                 ("NLL", curve("nll"))]),
        _figure(os.path.join(directory, "diagnostics.png"),
                [("starved share (λ < 0.01)", log("starved_share")),
                 ("mean head-gradient cosine", log("cosine")),
                 ("effective rank, head Gram", log("effective_rank"))]),
    ]  # fmt: skip
    return [p for p in out if p is not None]
