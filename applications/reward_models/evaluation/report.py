"""Markdown tables from evaluation results (``metrics.json`` dicts), with mean ± std over seeds.

Every table builder takes a list of evaluation results — one per seed, same models and
sources — and prints the mean of each cell, with ``± std`` (population std over seeds) when
there are several. Layouts follow the MORE paper:

* :func:`accuracy_table` — Table 3: rows = models / schemes, columns = per-source accuracy,
  their average, and the ECE (M = 10, averaged over sources);
* :func:`calibration_table` — per-source ECE, ECE at M = 5/10/20, equal-mass ECE, Brier,
  log-loss and, on simulator data, the calibration error against the true probabilities;
* :func:`reward_diff_table` — Table 1: reward-difference quartiles, 1.5·IQR outliers and
  over-rewarding indicators, pooled over sources;
* :func:`evaluation_report` — the evaluate CLI's ``report.md`` (the three tables above);
* :func:`comparison_table` — the training run's plain-text table (one row per source, accuracy
  and ECE per scheme).

Metrics that are ``null`` in ``metrics.json`` (non-finite rewards) print as ``–``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "accuracy_table",
    "calibration_table",
    "comparison_table",
    "evaluation_report",
    "format_cell",
    "markdown_table",
    "reward_diff_table",
    "sweep_table",
]

Results = dict[str, Any]


def format_cell(values: Sequence[float | None], digits: int = 3, percent: bool = False) -> str:
    """``"m"`` for one value, ``"m ± s"`` for several (population std); ``"–"`` when missing."""
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not vals:
        return "–"
    scale = 100.0 if percent else 1.0
    d = max(digits - 2, 1) if percent else digits
    mean = statistics.fmean(vals) * scale
    if len(vals) == 1:
        return f"{mean:.{d}f}"
    return f"{mean:.{d}f} ± {statistics.pstdev(vals) * scale:.{d}f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table (first column left-aligned, the others right)."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError("every row must have one cell per header")
    align = [":--"] + ["--:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _models(results: Sequence[Results]) -> list[str]:
    if not results:
        raise ValueError("no evaluation results to tabulate")
    return list(results[0]["models"])


def _sources(results: Sequence[Results]) -> list[str]:
    if not results:
        raise ValueError("no evaluation results to tabulate")
    return list(results[0]["sources"])


def _per_seed(
    results: Sequence[Results], model: str, get: Callable[[dict[str, Any]], float | None]
) -> list[float | None]:
    out = []
    for res in results:
        entry = res["models"].get(model)
        out.append(None if entry is None else get(entry))
    return out


def _mean_over_sources(entry: dict[str, Any], key: str) -> float:
    vals = [float(s[key]) for s in entry["sources"].values() if s.get(key) is not None]
    return statistics.fmean(vals) if vals else math.nan


def _row(entry: dict[str, Any], source: str) -> dict[str, Any]:
    return entry["sources"].get(source) or {}


def accuracy_table(results: Sequence[Results], digits: int = 1) -> str:
    """The paper's Table 3: accuracy (%) per test source, average, and mean ECE (M = 10, %).

    ``Avg`` is the unweighted mean of the per-source accuracies (as in the paper); ``ECE`` is
    the unweighted mean of the per-source ECEs (``metrics.calibration_errors``, both orderings,
    10 equal-width bins).
    """
    sources = _sources(results)
    headers = ["Model", *sources, "Avg", "ECE"]
    rows = []
    for model in _models(results):
        row = [model]
        for src in sources:
            vals = _per_seed(results, model, lambda e, s=src: _row(e, s).get("accuracy"))
            row.append(format_cell(vals, digits + 2, percent=True))
        row.append(
            format_cell(
                _per_seed(results, model, lambda e: _mean_over_sources(e, "accuracy")),
                digits + 2,
                percent=True,
            )
        )
        row.append(
            format_cell(
                _per_seed(results, model, lambda e: _mean_over_sources(e, "ece")),
                digits + 2,
                percent=True,
            )
        )
        rows.append(row)
    return markdown_table(headers, rows)


def calibration_table(results: Sequence[Results], digits: int = 3) -> str:
    """Per-source ECE (M = 10) and source-averaged ECE@5/10/20, equal-mass ECE, ACE, MCE,
    Brier, log-loss, and (simulator) ECE / MAE of σ(Δr) against the true probabilities."""
    sources = _sources(results)
    has_truth = any(
        "truth" in s
        for res in results
        for m in res["models"].values()
        for s in m["sources"].values()
    )
    headers = [
        "Model",
        *(f"ECE {s}" for s in sources),
        "ECE@5",
        "ECE@10",
        "ECE@20",
        "ECE mass",
        "ACE",
        "MCE",
        "Brier",
        "log-loss",
    ]
    if has_truth:
        headers += ["truth ECE", "truth MAE"]

    def avg(get: Callable[[dict[str, Any]], float | None]) -> Callable[[dict[str, Any]], float]:
        def inner(entry: dict[str, Any]) -> float:
            vals = [get(s) for s in entry["sources"].values()]
            vals = [v for v in vals if v is not None]
            return statistics.fmean(vals) if vals else math.nan

        return inner

    rows = []
    for model in _models(results):
        row = [model]
        for src in sources:
            row.append(
                format_cell(
                    _per_seed(results, model, lambda e, s=src: _row(e, s).get("ece")), digits
                )
            )
        for m in ("5", "10", "20"):
            get = avg(lambda s, m=m: (s.get("calibration") or {}).get(m, {}).get("ece"))
            row.append(format_cell(_per_seed(results, model, get), digits))
        for get in (
            avg(lambda s: (s.get("calibration_mass") or {}).get("ece")),
            avg(lambda s: s.get("ace")),
            avg(lambda s: s.get("mce")),
            avg(lambda s: s.get("brier")),
            avg(lambda s: s.get("log_loss")),
        ):
            row.append(format_cell(_per_seed(results, model, get), digits))
        if has_truth:
            for key in ("ece", "mae"):
                get = avg(lambda s, k=key: s["truth"][k] if "truth" in s else None)
                row.append(format_cell(_per_seed(results, model, get), digits))
        rows.append(row)
    return markdown_table(headers, rows)


def _pooled_diffs(entry: dict[str, Any]) -> dict[str, Any]:
    return (entry.get("pooled") or {}).get("reward_diff") or {}


def reward_diff_table(results: Sequence[Results], digits: int = 2) -> str:
    """The paper's Table 1 on Δ = r_w − r_l pooled over all test sources: quartiles, count and
    mean of positive / negative outliers (beyond 1.5·IQR from the quartiles), mean |Δ| and the
    share of |Δ| > 5."""
    headers = [
        "Model",
        "Q1",
        "median",
        "Q3",
        "#pos. outliers",
        "mean pos.",
        "#neg. outliers",
        "mean neg.",
        "mean \\|Δ\\|",
        "\\|Δ\\| > 5",
    ]
    rows = []
    for model in _models(results):

        def get(key: str, m: str = model) -> list[float | None]:
            return _per_seed(results, m, lambda e: _pooled_diffs(e).get(key))

        rows.append(
            [
                model,
                format_cell(get("q1"), digits),
                format_cell(get("median"), digits),
                format_cell(get("q3"), digits),
                format_cell(get("n_pos_outliers"), 1),
                format_cell(get("mean_pos_outliers"), digits),
                format_cell(get("n_neg_outliers"), 1),
                format_cell(get("mean_neg_outliers"), digits),
                format_cell(get("mean_abs"), digits),
                format_cell(
                    _per_seed(
                        results,
                        model,
                        lambda e: (_pooled_diffs(e).get("share_abs_above") or {}).get("5.0"),
                    ),
                    digits + 1,
                ),
            ]
        )
    return markdown_table(headers, rows)


def sweep_table(
    x_name: str,
    xs: Sequence[Any],
    series: dict[str, Sequence[Sequence[float | None]]],
    digits: int = 3,
) -> str:
    """Rows = sweep values ``xs``; one column per series (e.g. scheme) with mean ± std over seeds.

    Args:
        x_name: header of the first column (e.g. ``"K"``).
        xs: sweep values.
        series: ``{name: [values over seeds at xs[0], values at xs[1], ...]}``.
    """
    headers = [x_name, *series]
    rows = []
    for i, x in enumerate(xs):
        rows.append([str(x), *(format_cell(vals[i], digits) for vals in series.values())])
    return markdown_table(headers, rows)


def evaluation_report(results: Results, title: str | None = None) -> str:
    """``report.md`` of one ``metrics.json`` document: Table 3, calibration, reward differences."""
    return "\n".join(
        [
            f"# {title or 'Reward-model evaluation'}\n",
            "## Accuracy (%) per test source and ECE (%, M = 10)\n",
            accuracy_table([results]),
            "## Calibration\n",
            calibration_table([results]),
            "## Reward differences Δ = r_w − r_l (all sources)\n",
            reward_diff_table([results]),
        ]
    )


def _cell(values: Sequence[Any]) -> str:
    vals = [float(v) for v in values if v is not None]
    return f"{statistics.fmean(vals):.3f}" if vals else "-"


def comparison_table(entries: dict[str, dict[str, Any]]) -> str:
    """Plain-text table of a training run: one row per source (+ ``mean``), accuracy, ECE and,
    on simulator data, the ECE against the gold probabilities (``truth.ece``) per scheme.

    Args:
        entries: ``{scheme: metrics.json model entry}`` (``entry["sources"][source]`` rows).
    """
    schemes = list(entries)
    sources = list(dict.fromkeys(s for e in entries.values() for s in e["sources"]))
    rows_of = {sc: entries[sc]["sources"] for sc in schemes}

    def value(row: dict[str, Any], key: str) -> Any:
        return (row.get("truth") or {}).get("ece") if key == "truth" else row.get(key)

    has_truth = any("truth" in r for rows in rows_of.values() for r in rows.values())
    cols = [("accuracy", "acc"), ("ece", "ECE")] + ([("truth", "gold ECE")] if has_truth else [])
    header = ["source"] + [f"{s} {label}" for _key, label in cols for s in schemes]
    table = [header]
    for src in [*sources, "mean"]:
        cells = [src]
        for key, _label in cols:
            for sc in schemes:
                rows = list(rows_of[sc].values()) if src == "mean" else [rows_of[sc].get(src, {})]
                cells.append(_cell([value(r, key) for r in rows]))
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    return "\n".join(lines + [fmt.format(*r) for r in table[1:]])
