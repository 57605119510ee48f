"""The study's figures, drawn from the ``study.json`` dict alone (matplotlib, Agg canvas).

Every function takes the study dict and an output folder, writes PNGs there and returns the
written paths; a figure whose data is absent (an older ``study.json``, no comparisons) is
skipped and the list is empty. Drawing reuses :mod:`applications.reward_models.evaluation.plots`
(its Agg figure, saving and reliability panels), so no ``pyplot`` state is touched.

* :func:`curve_plots` — ``ece_curves.png``: ECE (and, when present, gold ECE, accuracy and
  mean |Δr|) against the training step, one line per scheme: the **mean over seeds**, the band
  **mean ± one standard deviation** over seeds (population sd; no band with one seed).
* :func:`reliability_plots` — ``reliability.png``: one reliability diagram per scheme on the
  pooled source ``all``, **seeds pooled** (bin counts summed, confidence and accuracy averaged
  weighted by count, i.e. the diagram of all seeds' points together), with the diagonal.
* :func:`forest_plot` — ``forest.png``: ΔECE and Δaccuracy (first − second scheme) with their
  95 % paired-bootstrap intervals, one row per comparison and source, zero marked.
* :func:`study_plots` — all of the above.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from applications.reward_models.evaluation.plots import _figure, _save, reliability_diagrams

__all__ = ["curve_plots", "forest_plot", "pooled_reliability", "reliability_plots", "study_plots"]

_CURVE_PANELS = (
    ("ece", "ECE"),
    ("gold_ece", "gold ECE"),
    ("accuracy", "accuracy"),
    ("mean_abs_diff", "mean |Δr|"),
)


def _by_step(seeds: Mapping[str, Sequence[Mapping[str, Any]]], key: str) -> dict[int, list]:
    """``{step: [value of each seed that has one]}``, steps ascending."""
    out: dict[int, list[float]] = {}
    for points in seeds.values():
        for point in points:
            if point.get(key) is not None:
                out.setdefault(int(point["step"]), []).append(float(point[key]))
    return dict(sorted(out.items()))


def _curve_panel(ax: Any, curves: Mapping[str, Any], key: str, label: str) -> None:
    for scheme, seeds in curves.items():
        per_step = _by_step(seeds, key)
        if not per_step:
            continue
        steps = list(per_step)
        mean = [statistics.fmean(v) for v in per_step.values()]
        sd = [statistics.pstdev(v) if len(v) > 1 else 0.0 for v in per_step.values()]
        (line,) = ax.plot(steps, mean, linewidth=1.2, label=scheme)
        low = [m - s for m, s in zip(mean, sd, strict=True)]
        high = [m + s for m, s in zip(mean, sd, strict=True)]
        ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("step", fontsize=8)
    ax.set_ylabel(label, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"{label} (mean ± sd over seeds)", fontsize=9)


def curve_plots(study: Mapping[str, Any], output_dir: str) -> list[str]:
    """``ece_curves.png`` from ``study["curves"]``: a panel per metric present; ``[]`` without
    curves."""
    curves = {s: seeds for s, seeds in (study.get("curves") or {}).items() if seeds}
    panels = [
        (k, label) for k, label in _CURVE_PANELS if any(_by_step(v, k) for v in curves.values())
    ]
    if not panels:
        return []
    fig = _figure(3.6 * len(panels), 3.0)
    for i, (key, label) in enumerate(panels):
        _curve_panel(fig.add_subplot(1, len(panels), i + 1), curves, key, label)
    fig.axes[0].legend(fontsize=7)
    fig.tight_layout()
    return [_save(fig, os.path.join(output_dir, "ece_curves.png"))]


def pooled_reliability(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """One :class:`~applications.reward_models.evaluation.metrics.CalibrationResult`-shaped
    dict from the ``reliability`` bins of several seeds' rows (counts summed, confidence and
    accuracy count-weighted); ``ece`` of the pooled bins. ``None`` when no row has bins."""
    bins = [r["reliability"] for r in rows if r.get("reliability")]
    if not bins:
        return None
    m = len(bins[0]["count"])
    counts = [sum(b["count"][k] for b in bins) for k in range(m)]

    def weighted(key: str) -> list[float | None]:
        sums = [sum(b["count"][k] * (b[key][k] or 0.0) for b in bins) for k in range(m)]
        return [s / c if c else None for s, c in zip(sums, counts, strict=True)]

    conf, acc = weighted("confidence"), weighted("accuracy")
    gaps = [c * abs(p - a) for c, p, a in zip(counts, conf, acc, strict=True) if c]
    return {
        "bin_edges": [k / m for k in range(m + 1)],
        "bin_counts": counts,
        "bin_confidence": conf,
        "bin_accuracy": acc,
        "ece": sum(gaps) / sum(counts),
    }


def reliability_plots(study: Mapping[str, Any], output_dir: str, source: str = "all") -> list[str]:
    """``reliability.png``: per scheme, seeds pooled, on ``source``; ``[]`` without bins."""
    cals = {}
    for scheme, seeds in (study.get("results") or {}).items():
        cal = pooled_reliability([rows[source] for rows in seeds.values() if source in rows])
        if cal is not None:
            cals[f"{scheme} ({len(seeds)} seeds)"] = cal
    if not cals:
        return []
    path = os.path.join(output_dir, "reliability.png")
    return [reliability_diagrams(cals, path, f"test source: {source}, seeds pooled")]


def _forest_rows(comparisons: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (f"{name} · {source}", c)
        for name, by_source in comparisons.items()
        for source, c in by_source.items()
        if "delta_ece_ci" in c
    ]


def _forest_panel(ax: Any, rows: list[tuple[str, Mapping[str, Any]]], key: str, label: str) -> None:
    ys = list(range(len(rows)))[::-1]
    for y, (_, c) in zip(ys, rows, strict=True):
        ci = c[key]
        contains = ci["low"] <= 0.0 <= ci["high"]
        err = [[ci["estimate"] - ci["low"]], [ci["high"] - ci["estimate"]]]
        color = "#8c8c8c" if contains else "#4c72b0"
        ax.errorbar([ci["estimate"]], [y], xerr=err, fmt="o", color=color, capsize=2, ms=3)
    ax.axvline(0.0, color="#c44e52", linewidth=1, linestyle="--")
    ax.set_yticks(ys, [name for name, _ in rows], fontsize=7)
    ax.set_xlabel(f"{label} [95 % CI]", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, axis="x")


def forest_plot(study: Mapping[str, Any], output_dir: str) -> list[str]:
    """``forest.png`` from ``study["comparisons"]``; ``[]`` without comparisons.

    Grey: the interval contains 0 (no difference); blue: it does not.
    """
    rows = _forest_rows(study.get("comparisons") or {})
    if not rows:
        return []
    fig = _figure(8.0, 0.28 * len(rows) + 1.2)
    ece_ax = fig.add_subplot(1, 2, 1)
    _forest_panel(ece_ax, rows, "delta_ece_ci", "ΔECE (first − second)")
    acc_ax = fig.add_subplot(1, 2, 2, sharey=ece_ax)
    _forest_panel(acc_ax, rows, "delta_accuracy_ci", "Δaccuracy (first − second)")
    acc_ax.tick_params(labelleft=False)
    fig.tight_layout()
    return [_save(fig, os.path.join(output_dir, "forest.png"))]


def study_plots(study: Mapping[str, Any], output_dir: str) -> list[str]:
    """Every study figure that has data, written under ``output_dir``; the paths written."""
    return [
        *curve_plots(study, output_dir),
        *reliability_plots(study, output_dir),
        *forest_plot(study, output_dir),
    ]
