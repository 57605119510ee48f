"""``study.md``: the study's tables, read from the ``study.json`` dict alone.

Every number is the mean ± population sd over seeds. Keys an older ``study.json`` lacks
(``ece_by_bins``, ``table1``, ``curves``, ``weights``) leave a cell ``–`` or drop a section.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["comparison_schemes", "lower_scheme", "markdown_report", "verdict"]

_WEIGHT_STATS = {
    "mean": "mean λ",
    "std": "sd of λ over steps",
    "mean_abs_change": "mean abs step-to-step change",
    "effective_weight": "effective weight (share of the head-gradient step)",
    "starved_fraction": "starved fraction of steps",
}
_DASH = "–"


def _get(row: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(row, Mapping) or row.get(key) is None:
            return None
        row = row[key]
    return row


def _cell(rows: Sequence[Any], *path: str, sd: bool = True, fmt: str = ".3f") -> str:
    """Mean ± sd over ``rows`` of the value at ``path`` (rows without it skipped)."""
    vals = [float(v) for v in (_get(r, path) for r in rows) if v is not None]
    if not vals:
        return _DASH
    if len(vals) == 1 or not sd:
        return f"{statistics.fmean(vals):{fmt}}"
    return f"{statistics.fmean(vals):{fmt}} ± {statistics.pstdev(vals):{fmt}}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*lines, *("| " + " | ".join(r) + " |" for r in rows)]


def _rows(study: Mapping[str, Any], scheme: str, source: str) -> list[Any]:
    seeds = study["results"][scheme]
    return [seeds[s][source] for s in seeds if source in seeds[s]]


def _sources(study: Mapping[str, Any]) -> list[str]:
    return [*study["sources"], "all"]


def _bins(study: Mapping[str, Any]) -> tuple[list[str], str]:
    """Bin counts with an ECE column (``ece_by_bins`` keys, else the main M) and the main M."""
    main = str(study.get("config", {}).get("n_bins", 10))
    first = next(iter(next(iter(study["results"].values())).values()))
    found = {m for row in first.values() for m in (row.get("ece_by_bins") or {})}
    return sorted(found | {main}, key=int), main


def _ece_cell(rows: Sequence[Any], m: str, main: str) -> str:
    """``ECE (noise floor)`` at M = ``m``; older rows have only the main M."""
    ece = _cell(rows, "ece_by_bins", m)
    floor = _cell(rows, "noise_floor_by_bins", m, "mean", sd=False)
    if ece == _DASH and m == main:
        ece, floor = _cell(rows, "ece"), _cell(rows, "noise_floor", "mean", sd=False)
    return ece if floor == _DASH else f"{ece} ({floor})"


def _model_tables(study: Mapping[str, Any]) -> list[str]:
    bins, main = _bins(study)
    first, second = [], []
    for scheme in study["results"]:
        for source in _sources(study):
            rows = _rows(study, scheme, source)
            first.append(
                [scheme, source, _cell(rows, "accuracy"), _cell(rows, "brier"),
                 _cell(rows, "log_loss"), *(_ece_cell(rows, m, main) for m in bins)]
            )  # fmt: skip
            scaled = _cell(rows, "ece_temperature_scaled")
            floor = _cell(rows, "noise_floor_temperature_scaled", "mean", sd=False)
            second.append(
                [scheme, source, _cell(rows, "ace"), _cell(rows, "mce"),
                 scaled if floor == _DASH else f"{scaled} ({floor})",
                 _cell(rows, "temperature"), _cell(rows, "gold_ece"), _cell(rows, "mean_abs_diff")]
            )  # fmt: skip
    head = ["scheme", "source", "accuracy", "Brier", "log loss"]
    return [
        *_table([*head, *(f"ECE@{m} (floor)" for m in bins)], first),
        "",
        *_table(
            ["scheme", "source", f"ACE@{main}", f"MCE@{main}", f"ECE@{main} T-scaled (floor)",
             "T", "gold ECE", "mean abs Δr"],
            second,
        ),
    ]  # fmt: skip


def comparison_schemes(name: str, schemes: Sequence[str]) -> tuple[str, str]:
    """``(first, second)`` of a comparison named ``"first-second"`` (scheme names may hold
    ``-``: the split that names two known schemes wins, else the first ``-``)."""
    for a in schemes:
        if name.startswith(f"{a}-") and name[len(a) + 1 :] in schemes:
            return a, name[len(a) + 1 :]
    a, _, b = name.partition("-")
    return a, b


def lower_scheme(ci: Mapping[str, float], first: str, second: str) -> str | None:
    """The scheme with the lower value given the interval of ``first − second``; ``None``
    (no difference) when the interval contains 0."""
    if ci["low"] <= 0.0 <= ci["high"]:
        return None
    return first if ci["high"] < 0.0 else second


def verdict(comparison: Mapping[str, Any], first: str, second: str) -> str:
    """Plain words: which scheme has the lower ECE and which the higher accuracy, or
    "no difference" when the 95 % interval of the difference contains 0."""
    ece = lower_scheme(comparison["delta_ece_ci"], first, second)
    worse = lower_scheme(comparison["delta_accuracy_ci"], first, second)
    better = None if worse is None else (second if worse == first else first)
    ece_text = "no difference" if ece is None else f"`{ece}` lower"
    acc_text = "no difference" if better is None else f"`{better}` higher"
    return f"ECE: {ece_text}; accuracy: {acc_text}"


def _ci(c: Mapping[str, float]) -> str:
    return f"{c['estimate']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]"


def _comparison_section(study: Mapping[str, Any]) -> list[str]:
    rows, verdicts = [], []
    for name, by_source in study["comparisons"].items():
        first, second = comparison_schemes(name, study.get("schemes") or list(study["results"]))
        for source, c in by_source.items():
            rows.append([name, source, _ci(c["delta_ece_ci"]), _ci(c["delta_accuracy_ci"])])
            verdicts.append(f"- `{first}` vs `{second}`, `{source}`: {verdict(c, first, second)}")
    header = ["comparison", "source", "ΔECE [95 % CI]", "Δaccuracy [95 % CI]"]
    return [*_table(header, rows), "", *verdicts]


def _table1_section(study: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for source in _sources(study):
        rows = []
        for scheme in study["results"]:
            seeds = [r["table1"] for r in _rows(study, scheme, source) if r.get("table1")]
            if seeds:
                rows.append(
                    [scheme, _cell(_rows(study, scheme, source), "ece"),
                     _cell(seeds, "share_positive"), _cell(seeds, "mean"), _cell(seeds, "std"),
                     _cell(seeds, "positive", "count", fmt=".1f"), _cell(seeds, "positive", "mean"),
                     _cell(seeds, "negative", "count", fmt=".1f"), _cell(seeds, "negative", "mean")]
                )  # fmt: skip
        if rows:
            header = ["scheme", "ECE", "share Δr>0", "mean Δr", "sd Δr", "pos. outliers",
                      "pos. mean", "neg. outliers", "neg. mean"]  # fmt: skip
            lines += [f"### Test set `{source}`", "", *_table(header, rows), ""]
    return lines


def _weights_section(weights: Mapping[str, Any]) -> list[str]:
    per_seed = {s: list(seeds.values()) for s, seeds in weights.items() if seeds}
    found = {k for seeds in per_seed.values() for w in seeds for k in w}
    stats = [k for k in _WEIGHT_STATS if k in found] + sorted(found - set(_WEIGHT_STATS))
    rows = []
    for scheme, seeds in per_seed.items():
        sources = dict.fromkeys(src for w in seeds for k in stats for src in (w.get(k) or {}))
        for src in sources:
            rows.append([scheme, src, *(_cell(seeds, k, src) for k in stats)])
    header = ["scheme", "source", *(_WEIGHT_STATS.get(k, k) for k in stats)]
    return _table(header, rows) if rows else []


_SETUP = (
    ("simulator", "simulator"),
    ("model", "model"),
    ("max_steps", "steps"),
    ("train_pairs", "training pairs per source"),
    ("calibration_pairs", "calibration pairs per source"),
    ("test_pairs", "test pairs per source"),
)


def _head(study: Mapping[str, Any]) -> list[str]:
    cfg = study.get("config") or {}
    setup = [f"{label} `{cfg[key]}`" for key, label in _SETUP if cfg.get(key) is not None]
    return [
        "# Calibration study",
        "",
        f"{len(study.get('seeds') or [])} seed(s); " + ", ".join(setup) + ". Numbers: mean ± sd"
        " over seeds. ECE@M: M equal-width bins, both orderings of every pair; in brackets its"
        " noise floor, the mean ECE of a perfectly calibrated model with the same predictions."
        ' CIs: paired bootstrap over seeds, then test pairs; a verdict says "no difference"'
        " when the 95 % CI of the difference contains 0. Source `all`: every source's test"
        " pairs pooled.",
        "",
    ]


def markdown_report(study: Mapping[str, Any], plots: Sequence[str] | None = None) -> str:
    """``study.md`` from the ``study.json`` dict; ``plots`` (paths of PNGs written under the
    report's ``plots/`` folder, e.g. by :func:`~.plots.study_plots`) are linked as
    ``plots/<file name>``."""
    out = [*_head(study), "## Models", "", *_model_tables(study), ""]
    out += ["## Comparisons", "", *_comparison_section(study), ""]
    table1 = _table1_section(study)
    if table1:
        out += [
            "## Reward differences (the paper's Table 1)",
            "",
            "Outliers: per sign of Δr, |Δr| beyond the box-plot fence q3 + 1.5·IQR of that"
            " sign's |Δr|; counts per seed (mean ± sd over seeds), outlier means keep the sign"
            " (over the seeds that have outliers).",
            "",
            *table1,
        ]
    weights = _weights_section(study.get("weights") or {})
    if weights:
        out += ["## Source weights λ over training", "", *weights, ""]
    if plots:
        out += ["## Figures", ""]
        for path in plots:
            name = os.path.basename(path)
            out += [f"![{name}](plots/{name})", ""]
    return "\n".join(out)
