"""``study.md``: the study's tables, read from the ``study.json`` dict alone."""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ["markdown_report"]


def _mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.pstdev(values):.3f}"


def _model_table(study: dict[str, Any]) -> list[str]:
    lines = [
        "| scheme | source | accuracy | ECE | noise floor | ECE (T-scaled) | T | gold ECE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scheme, seeds in study["results"].items():
        for source in [*study["sources"], "all"]:
            rows = [seeds[s][source] for s in seeds]

            def col(key: str, rows: list[dict[str, Any]] = rows) -> str:
                vals = [r[key] for r in rows if r.get(key) is not None]
                return _mean_std(vals) if vals else "–"

            floor = _mean_std([r["noise_floor"]["mean"] for r in rows])
            lines.append(
                f"| {scheme} | {source} | {col('accuracy')} | {col('ece')} | {floor} | "
                f"{col('ece_temperature_scaled')} | {col('temperature')} | {col('gold_ece')} |"
            )
    return lines


def _comparison_table(study: dict[str, Any]) -> list[str]:
    lines = ["| comparison | source | ΔECE [95 % CI] | Δaccuracy [95 % CI] |", "|---|---|---|---|"]
    for name, by_source in study["comparisons"].items():
        for source, c in by_source.items():
            e, a = c["delta_ece_ci"], c["delta_accuracy_ci"]
            lines.append(
                f"| {name} | {source} | {e['estimate']:+.3f} [{e['low']:+.3f}, {e['high']:+.3f}]"
                f" | {a['estimate']:+.3f} [{a['low']:+.3f}, {a['high']:+.3f}] |"
            )
    return lines


def markdown_report(study: dict[str, Any]) -> str:
    """Per-model table (mean ± std over seeds) and the paired comparisons."""
    cfg = study["config"]
    head = [
        "# Calibration study",
        "",
        f"Simulator `{cfg['simulator']}`, {len(study['seeds'])} seed(s), {cfg['max_steps']} steps,"
        f" model `{cfg['model']}`; {cfg['test_pairs']} test and {cfg['calibration_pairs']}"
        " calibration pairs per source. ECE: M = "
        f"{cfg['n_bins']} equal-width bins, both orderings. Noise floor: mean ECE of a perfectly"
        " calibrated model with the same predictions. CIs: paired bootstrap over seeds, then"
        " test pairs. Source `all`: every source's test pairs pooled.",
        "",
        "## Models",
        "",
    ]
    return "\n".join(
        [*head, *_model_table(study), "", "## Comparisons", "", *_comparison_table(study), ""]
    )
