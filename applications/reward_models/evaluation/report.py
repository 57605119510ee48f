"""Markdown tables from evaluation results (``metrics.json`` dicts), with mean ± std over seeds.

Every table builder takes a list of evaluation results — one per seed, same models and
sources — and prints the mean of each cell, with ``± std`` (population std over seeds) when
there are several. Layouts follow the MORE paper:

* :func:`accuracy_table` — Table 3: rows = models / schemes, columns = per-source accuracy,
  their average, and the ECE (M = 10, averaged over sources);
* :func:`calibration_table` — per-source ECE, ECE at M = 5/10/20, equal-mass ECE, Brier,
  log-loss and, on simulator data, the calibration error against the true probabilities;
* :func:`reward_diff_table` — Table 1: reward-difference quartiles, 1.5·IQR outliers and
  over-rewarding indicators, pooled over sources.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "accuracy_table",
    "calibration_table",
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
    vals = [float(s[key]) for s in entry["sources"].values()]
    return statistics.fmean(vals)


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
            vals = _per_seed(results, model, lambda e, s=src: e["sources"][s]["accuracy"])
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
                    _per_seed(results, model, lambda e, s=src: e["sources"][s]["ece"]), digits
                )
            )
        for m in ("5", "10", "20"):
            get = avg(lambda s, m=m: s["calibration"].get(m, {}).get("ece"))
            row.append(format_cell(_per_seed(results, model, get), digits))
        for get in (
            avg(lambda s: s["calibration_mass"]["ece"]),
            avg(lambda s: s["ace"]),
            avg(lambda s: s["mce"]),
            avg(lambda s: s["brier"]),
            avg(lambda s: s["log_loss"]),
        ):
            row.append(format_cell(_per_seed(results, model, get), digits))
        if has_truth:
            for key in ("ece", "mae"):
                get = avg(lambda s, k=key: s["truth"][k] if "truth" in s else None)
                row.append(format_cell(_per_seed(results, model, get), digits))
        rows.append(row)
    return markdown_table(headers, rows)


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
            return _per_seed(results, m, lambda e: e["pooled"]["reward_diff"][key])

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
                        lambda e: e["pooled"]["reward_diff"]["share_abs_above"].get("5.0"),
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
