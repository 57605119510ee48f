"""PNG figures for reward-model evaluation (matplotlib, off-screen).

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas directly — no
``pyplot`` state and no global backend switch, so importing this module never changes the
caller's matplotlib setup. Each function writes one PNG and returns its path.

* :func:`reliability_diagrams` — per model: accuracy vs confidence per bin on the symmetrized
  points (the points ECE is computed on), the diagonal, and the bin counts.
* :func:`reward_diff_boxplots` — Δ = r_w − r_l per model (the MORE paper's Fig. 3/5), Tukey
  whiskers at 1.5·IQR, outliers shown.
* :func:`margin_histograms` — per model, |Δ| of correctly vs wrongly ranked pairs.
* :func:`accuracy_matrix` — heat map of accuracy, rows = reward model (its training source),
  columns = test source (the paper's Fig. 1).
* :func:`sweep_plot` — a metric against a sweep variable, one line per scheme, mean ± std.
* :func:`evaluation_plots` — the evaluate CLI's figure set from a ``metrics.json`` document.
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import torch

__all__ = [
    "accuracy_matrix",
    "evaluation_plots",
    "margin_histograms",
    "reliability_diagrams",
    "reward_diff_boxplots",
    "sweep_plot",
]


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str]) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=fig.dpi, bbox_inches="tight")
    return path


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def _check_nonempty(data: Mapping[str, Any], what: str) -> None:
    if not data:
        raise ValueError(f"no {what} to plot")


def reliability_diagrams(
    calibrations: Mapping[str, Mapping[str, Any]],
    path: str | os.PathLike[str],
    title: str | None = None,
) -> str:
    """One reliability panel per model.

    Args:
        calibrations: ``{model: CalibrationResult.to_dict()}`` (keys ``bin_edges``,
            ``bin_counts``, ``bin_confidence``, ``bin_accuracy``, ``ece``).
        path: output PNG.
        title: figure title.

    Each panel: bars of the empirical accuracy per bin (at the bin's position), red ticks at the
    mean confidence, the diagonal (perfect calibration), and below, the number of points per
    bin (both orderings of each pair: 2 per pair).
    """
    _check_nonempty(calibrations, "calibration results")
    rows, cols = _grid(len(calibrations))
    fig = _figure(3.2 * cols, 3.6 * rows)
    outer = fig.add_gridspec(rows, cols, hspace=0.45, wspace=0.3)
    for k, (name, cal) in enumerate(calibrations.items()):
        r, c = divmod(k, cols)
        inner = outer[r, c].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.08)
        ax = fig.add_subplot(inner[0])
        axc = fig.add_subplot(inner[1], sharex=ax)
        _reliability_panel(ax, axc, f"{name}  ECE={cal['ece']:.3f}", cal)
        if c == 0:
            ax.set_ylabel("accuracy", fontsize=8)
            axc.set_ylabel("count", fontsize=8)
        if k == 0:
            ax.legend(fontsize=6, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=10, y=1.0 + 0.04 / rows)
    return _save(fig, path)


def _reliability_panel(ax: Any, axc: Any, title: str, cal: Mapping[str, Any]) -> None:
    """Accuracy bars, mean-confidence ticks and the diagonal on ``ax``; bin counts on ``axc``."""
    edges = list(cal["bin_edges"])
    lefts, widths = edges[:-1], [b - a for a, b in itertools.pairwise(edges)]
    acc = [math.nan if v is None else v for v in cal["bin_accuracy"]]
    conf = [math.nan if v is None else v for v in cal["bin_confidence"]]
    ax.bar(
        lefts,
        [0 if math.isnan(a) else a for a in acc],
        widths,
        align="edge",
        color="#4c72b0",
        edgecolor="white",
        label="accuracy",
    )
    ax.scatter(
        [lf + w / 2 for lf, w in zip(lefts, widths, strict=True)],
        conf,
        marker="_",
        s=200,
        color="#c44e52",
        zorder=3,
        label="mean confidence",
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelbottom=False, labelsize=7)
    axc.bar(lefts, cal["bin_counts"], widths, align="edge", color="#8c8c8c", edgecolor="white")
    axc.set_xlabel("confidence σ(Δr)", fontsize=8)
    axc.tick_params(labelsize=7)


def reward_diff_boxplots(
    diffs: Mapping[str, torch.Tensor | Sequence[float]],
    path: str | os.PathLike[str],
    title: str | None = None,
) -> str:
    """Box plots of Δ = r_w − r_l, one box per model (whiskers 1.5·IQR, outliers as dots)."""
    _check_nonempty(diffs, "reward differences")
    names = list(diffs)
    data = [torch.as_tensor(diffs[n]).double().cpu().numpy() for n in names]
    fig = _figure(max(3.0, 1.1 * len(names) + 1.5), 3.2)
    ax = fig.add_subplot()
    ax.boxplot(data, whis=1.5, showfliers=True, flierprops={"markersize": 2, "alpha": 0.5})
    ax.set_xticks(range(1, len(names) + 1), names, rotation=20, fontsize=8)
    ax.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylabel("r(chosen) − r(rejected)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title or "reward differences", fontsize=9)
    return _save(fig, path)


def margin_histograms(
    diffs: Mapping[str, torch.Tensor | Sequence[float]],
    path: str | os.PathLike[str],
    bins: int = 30,
    title: str | None = None,
) -> str:
    """Per model: histograms of |Δ| for correctly (Δ > 0) and wrongly (Δ < 0) ranked pairs.

    A well-calibrated model makes its mistakes at small margins; mistakes at large |Δ| are
    confident errors — exactly what the ECE penalizes. Ties (Δ = 0) are counted in the legend.
    """
    _check_nonempty(diffs, "reward differences")
    rows, cols = _grid(len(diffs))
    fig = _figure(3.2 * cols, 2.6 * rows)
    for k, (name, d) in enumerate(diffs.items()):
        d = torch.as_tensor(d).double().cpu()
        ax = fig.add_subplot(rows, cols, k + 1)
        hi = float(d.abs().max()) if d.numel() else 1.0
        edges = torch.linspace(0.0, max(hi, 1e-6), bins + 1).numpy()
        correct, wrong = d[d > 0].abs().numpy(), d[d < 0].abs().numpy()
        ax.hist(correct, bins=edges, alpha=0.6, color="#55a868", label=f"correct ({len(correct)})")
        ax.hist(wrong, bins=edges, alpha=0.6, color="#c44e52", label=f"wrong ({len(wrong)})")
        ties = int((d == 0).sum())
        ax.set_title(f"{name}" + (f"  ties={ties}" if ties else ""), fontsize=9)
        ax.set_xlabel("|Δr|", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def accuracy_matrix(
    values: Sequence[Sequence[float | None]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    path: str | os.PathLike[str],
    row_title: str = "reward model trained on",
    col_title: str = "test source",
    title: str | None = None,
) -> str:
    """Heat map of accuracies (%, annotated); ``None`` cells are left blank."""
    if len(values) != len(row_labels) or any(len(r) != len(col_labels) for r in values):
        raise ValueError("values must be a len(row_labels) x len(col_labels) matrix")
    _check_nonempty(dict.fromkeys(row_labels), "rows")
    grid = [[math.nan if v is None else 100.0 * v for v in row] for row in values]
    fig = _figure(1.0 * len(col_labels) + 2.5, 0.55 * len(row_labels) + 1.6)
    ax = fig.add_subplot()
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if not math.isnan(v):
                ax.text(
                    j,
                    i,
                    f"{v:.1f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v < 60 else "black",
                )
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30, fontsize=7)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=7)
    ax.set_xlabel(col_title, fontsize=8)
    ax.set_ylabel(row_title, fontsize=8)
    fig.colorbar(im, ax=ax, label="accuracy (%)")
    ax.set_title(title or "cross-source accuracy", fontsize=9)
    return _save(fig, path)


def sweep_plot(
    x_name: str,
    xs: Sequence[float | str],
    series: Mapping[str, Sequence[Sequence[float | None]]],
    path: str | os.PathLike[str],
    y_name: str,
    title: str | None = None,
    log_x: bool = False,
) -> str:
    """One line per series (e.g. scheme): mean over seeds at each x, error bars = std over seeds.

    Args:
        xs: numbers, or names (e.g. backbones) placed at equal distances.
        series: ``{name: [values over seeds at xs[0], at xs[1], ...]}``; ``None`` values skipped.
    """
    _check_nonempty(series, "series")
    labels = [str(x) for x in xs]
    categorical = not all(isinstance(x, int | float) for x in xs)
    if categorical:
        xs = list(range(len(xs)))
    fig = _figure(4.2, 3.0)
    ax = fig.add_subplot()
    for name, per_x in series.items():
        if len(per_x) != len(xs):
            raise ValueError(f"series {name!r} has {len(per_x)} points for {len(xs)} x values")
        px, mean, std = [], [], []
        for x, vals in zip(xs, per_x, strict=True):
            v = [float(u) for u in vals if u is not None]
            if v:
                px.append(x)
                mean.append(statistics.fmean(v))
                std.append(statistics.pstdev(v) if len(v) > 1 else 0.0)
        ax.errorbar(px, mean, yerr=std, marker="o", markersize=3, capsize=2, label=name)
    if categorical:
        ax.set_xticks(xs, labels)
    elif log_x:
        ax.set_xscale("log")
    ax.set_xlabel(x_name, fontsize=8)
    ax.set_ylabel(y_name, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(title or f"{y_name} vs {x_name}", fontsize=9)
    return _save(fig, path)


# -- the evaluation's figure set, from a metrics.json document -------------------------------


def _main_calibration(row: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The M = 10 (else the first) calibration dict of a schema row; ``None`` if undefined."""
    cal = (row or {}).get("calibration") or {}
    return cal.get("10") or next(iter(cal.values()), None)


def _reliability_set(results: Mapping[str, Any], output_dir: str) -> dict[str, str]:
    models = results["models"]
    out = {}
    pooled = {m: _main_calibration(e["pooled"]) for m, e in models.items()}
    pooled = {m: c for m, c in pooled.items() if c is not None}
    if pooled:
        out["reliability"] = reliability_diagrams(
            pooled, os.path.join(output_dir, "reliability.png"), "all test sources"
        )
    for s in results["sources"]:
        cal = {m: _main_calibration(e["sources"].get(s)) for m, e in models.items()}
        cal = {m: c for m, c in cal.items() if c is not None}
        if cal:
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in s)
            out[f"reliability_{s}"] = reliability_diagrams(
                cal, os.path.join(output_dir, f"reliability_{safe}.png"), f"test source: {s}"
            )
    return out


def evaluation_plots(
    results: Mapping[str, Any],
    diffs: Mapping[str, Mapping[str, torch.Tensor]],
    output_dir: str,
) -> dict[str, str]:
    """The evaluation PNGs of a ``metrics.json`` document and its Δ per model × source:
    ``reliability.png`` (+ one per source), ``reward_diffs.png``, ``margins.png``,
    ``accuracy_matrix.png``; returns ``{artifact: path}``. Models whose metrics are undefined
    (non-finite rewards) are left out of the reliability diagrams."""
    models = results["models"]
    sources = list(results["sources"])
    out = _reliability_set(results, output_dir)
    all_d = {m: torch.cat(list(diffs[m].values())) for m in diffs if diffs[m]}
    all_d = {m: d[torch.isfinite(d)] for m, d in all_d.items()}
    out["reward_diffs"] = reward_diff_boxplots(all_d, os.path.join(output_dir, "reward_diffs.png"))
    out["margins"] = margin_histograms(all_d, os.path.join(output_dir, "margins.png"))
    trained = {m: e["trained_on"] for m, e in models.items() if e.get("trained_on")}
    rows = list(trained) if trained else list(models)
    labels = [f"{trained[m]} ({m})" if m in trained else m for m in rows]
    matrix = [[(models[m]["sources"].get(s) or {}).get("accuracy") for s in sources] for m in rows]
    out["accuracy_matrix"] = accuracy_matrix(
        matrix,
        labels,
        sources,
        os.path.join(output_dir, "accuracy_matrix.png"),
        row_title="reward model trained on" if trained else "reward model",
    )
    return out
