"""``study.md``: the study's tables and verdicts, read from the ``study.json`` dict alone.

The validity gate comes first and is repeated above every table of verdicts: when MultiTask is
not over-confident and mis-calibrated beyond the noise, there is no calibration gain to find and
the verdicts are reported as "uninformative".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["markdown_report", "shown_verdict"]

_METRIC_TITLES = {
    "ece": "ECE (mean of per-source ECE; headline)",
    "ece_pooled": "ECE, sources pooled",
    "ece_scaled": "ECE after temperature scaling (mean per source)",
    "gold_ece": "gold ECE (mean per source)",
    "nll": "NLL (mean per source)",
    "error": "error = 1 − accuracy",
}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*lines, *("| " + " | ".join(r) + " |" for r in rows)]


def _ci(c: Mapping[str, float], fmt: str = "+.4f") -> str:
    return f"{c['estimate']:{fmt}} [{c['low']:{fmt}}, {c['high']:{fmt}}]"


def shown_verdict(word: str, informative: bool, metric: str) -> str:
    """The verdict as reported: calibration verdicts of a run that fails the gate read
    ``uninformative (<word>)``."""
    if informative or metric in ("nll", "error"):
        return word
    return f"uninformative ({word})"


def _gate_line(study: Mapping[str, Any]) -> tuple[str, bool]:
    gate = study.get("gate")
    if gate is None:
        return "validity gate: not evaluated (no multitask variant)", False
    return gate["text"], bool(gate["informative"])


def _model_table(study: Mapping[str, Any]) -> list[str]:
    m = study["metrics"]
    rows = []
    for v in study["variants"]:
        row = [v]
        for key in ("ece", "ece_pooled", "ece_scaled", "gold_ece", "nll", "error"):
            row.append(_ci(m[key][v], ".4f") if key in m else "–")
        row += [f"{study['noise_floor'][v]:.4f}", f"{study['temperature'][v]:.2f}"]
        rows.append(row)
    header = ["variant", "ECE", "ECE pooled", "ECE T-scaled", "gold ECE", "NLL", "error",
              "noise floor", "T"]  # fmt: skip
    return _table(header, rows)


def _comparison_tables(study: Mapping[str, Any], gate: str, informative: bool) -> list[str]:
    out = []
    for metric, by_name in study["comparisons"].items():
        rows = []
        for name, c in by_name.items():
            p = "–" if c["p_holm"] is None else f"{c['p_holm']:.3f}"
            word = shown_verdict(c["verdict"], informative, metric)
            rows.append([name, c["role"], _ci(c["interval"]), p, word])
        out += [f"### Δ {_METRIC_TITLES.get(metric, metric)}", "", f"*{gate}*", ""]
        out += [*_table(["comparison", "role", "Δ [basic 95 % CI]", "Holm p", "verdict"], rows)]
        out.append("")
    return out


def _number(value: float | None, fmt: str) -> str:
    return "–" if value is None else f"{value:{fmt}}"


def _log_table(study: Mapping[str, Any]) -> list[str]:
    rows = []
    for v, log in study.get("logs", {}).items():
        lam = log["lambda_mean"]
        sd = log["lambda_sd_over_steps"]
        rows.append(
            [v, " / ".join(f"{lam[s]:.2f}" for s in lam), " / ".join(f"{sd[s]:.3f}" for s in sd),
             f"{log['starved_share']:.3f}", _number(log["cosine_mean"], "+.3f"),
             _number(log["effective_rank_mean"], ".2f")]
        )  # fmt: skip
    sources = " / ".join(study["sources"])
    header = ["variant", f"mean λ ({sources})", "sd of λ over steps", "starved share (λ<0.01)",
              "mean head-gradient cosine", "effective rank"]  # fmt: skip
    return _table(header, rows)


def _settings(study: Mapping[str, Any]) -> list[str]:
    c = study["config"]
    sizes = study["sizes"][0]
    return [
        f"- data: `{c['simulator'] if not c['sources'] else 'real sources'}`, "
        f"{c['data_seeds']} data seed(s) x {c['seeds']} training seed(s); per source "
        f"{next(iter(sizes['train'].values()))} training pairs, held-out-task pairs split by "
        f"prompt into calibration {sorted(sizes['calibration'].values())} and test "
        f"{sorted(sizes['test'].values())} pairs (data seed 0)",
        f"- model: `{c['model']}` features ({c['backbone']}), MLP body {c['hidden']} + linear "
        f"head; {c['max_steps']} steps of K x {c['pairs_per_source']} pairs, lr "
        f"{c['learning_rate']}",
        f"- statistics: crossed paired bootstrap ({c['n_boot']} replicates), basic intervals, "
        f"equivalence margin ±{c['margin']}, α = {c['alpha']} (primary unadjusted, others Holm)",
    ]


def markdown_report(study: Mapping[str, Any]) -> str:
    """The Markdown of ``study`` (module doc)."""
    gate, informative = _gate_line(study)
    out = ["# Calibration study", "", f"**{gate}**", "", *_settings(study), ""]
    out += [f"- {n}" for n in study.get("notes", [])]
    out += ["", "## Models (estimate [basic 95 % CI] over data seeds, seeds and test pairs)", ""]
    out += [*_model_table(study), "", "## Comparisons", ""]
    out += _comparison_tables(study, gate, informative)
    out += ["## λ and head gradients over training (mean over runs and steps)", ""]
    out += [*_log_table(study), ""]
    seconds = study.get("seconds")
    if seconds:
        total = sum(seconds.values())
        encoding = f"encoding {seconds['encoding']:.0f} s, " if "encoding" in seconds else ""
        parts = f"{encoding}training {seconds['training']:.0f} s"
        parts += f", analysis {seconds['analysis']:.0f} s"
        out.append(f"Time: {total:.0f} s ({total / 60:.1f} min): {parts}.")
    return "\n".join(out) + "\n"
