"""The alignment report in the layout of the paper's Table 2.

One row per policy: the base policy, then one policy aligned by best-of-n + SFT with each RM.
Columns: the RM scheme that selected the SFT data, that RM's ECE (lower is better calibrated),
the policy's perplexity on held-out chosen responses of each source (lower is better), and the
win / tie / lose rates of the aligned policy against the base policy under a position-swapped judge,
each with a 95 % interval. A head-to-head section judges the aligned policies against each other
(the paper's Table 2 reports MORE-aligned vs MultiTask-aligned). The paper's claim to check: the
better calibrated RM (lower ECE) yields more wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from applications.reward_models.files import write_json_atomic
from applications.reward_models.rjs.intervals import BOOTSTRAP_SAMPLES
from applications.reward_models.rjs.judge import WinTieLose
from applications.reward_models.rjs.records import Record


@dataclass
class Table2Row(Record):
    """One policy's results; ``None`` where a column does not apply (the base policy)."""

    policy: str
    rm_scheme: str | None = None
    ece: float | None = None
    ppl: dict[str, float] = field(default_factory=dict)
    win_tie_lose: dict[str, Any] | None = None
    best_of_n: dict[str, Any] | None = None


def _fmt(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def outcome_cells(win_tie_lose: Mapping[str, Any] | None) -> list[str]:
    """``[win, tie, lose, win − lose]`` as ``"pct [low, high]"`` percentages of the judged
    prompts, intervals recomputed from the counts (:meth:`WinTieLose.intervals`); ``—`` when
    nothing was judged."""
    counts = WinTieLose.from_dict(win_tie_lose) if win_tie_lose else None
    if counts is None or counts.n == 0:
        return ["—"] * 4
    ci = counts.intervals()
    return [
        f"{100 * ci[k].estimate:.1f} [{100 * ci[k].low:.1f}, {100 * ci[k].high:.1f}]"
        for k in ("win", "tie", "lose", "win_minus_lose")
    ]


_OUTCOME_HEADER = ["Win ↑", "Tie", "Lose ↓", "Win − lose ↑"]
_CI_NOTE = (
    "95 % intervals in brackets: Wilson for win / tie / lose, percentile bootstrap over prompts "
    f"({BOOTSTRAP_SAMPLES:,} resamples) for win − lose. Both response orders are judged "
    "(inconsistent verdicts are ties)."
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    return lines + ["| " + " | ".join(cells) + " |" for cells in rows]


def render_markdown(
    rows: Sequence[Table2Row],
    judge: str,
    sources: Sequence[str] | None = None,
    ece_sources: Mapping[str, str] | None = None,
) -> str:
    """Markdown table: ``| Policy | RM scheme | ECE ↓ | PPL <src> ↓ ... | Win ↑ | Tie | Lose ↓ |
    Win − lose ↑ |`` (aligned vs base, percentages with 95 % intervals), and a caption with the
    number of judged prompts and, given ``ece_sources`` (``role → test source``), what the ECE
    column averages."""
    sources = list(sources) if sources is not None else sorted({s for r in rows for s in r.ppl})
    header = ["Policy", "RM scheme", "ECE ↓", *[f"PPL {s} ↓" for s in sources], *_OUTCOME_HEADER]
    cells = [
        [
            r.policy,
            r.rm_scheme or "—",
            _fmt(r.ece, 4),
            *[_fmt(r.ppl.get(s), 2) for s in sources],
            *outcome_cells(r.win_tie_lose),
        ]
        for r in rows
    ]
    n_judged = max((int(r.win_tie_lose["n"]) for r in rows if r.win_tie_lose), default=0)
    caption = (
        f"\nWin / tie / lose (%): aligned vs base policy on {n_judged} prompts, judge `{judge}`. "
        + _CI_NOTE
        + "\n"
    )
    if ece_sources:
        roles = ", ".join(f"{role} = `{src}`" for role, src in ece_sources.items())
        caption += (
            "\nECE: the RM's ECE (10 bins) averaged over the test sets standing in for the "
            f"paper's Helpful and Harmless: {roles}.\n"
        )
    return "\n".join(_table(header, cells)) + "\n" + caption


def render_head_to_head(comparisons: Sequence[Mapping[str, Any]], judge: str) -> str:
    """``## Head to head`` section: one row per ``{"candidate", "baseline", **counts}`` record
    (``n`` prompts, win / tie / lose and win − lose in % with 95 % intervals); empty string when
    there is no comparison."""
    if not comparisons:
        return ""
    cells = [
        [c["candidate"], c["baseline"], str(int(c["n"])), *outcome_cells(c)] for c in comparisons
    ]
    header = ["Candidate", "Baseline", "n", *_OUTCOME_HEADER]
    return (
        "## Head to head\n\n"
        + "\n".join(_table(header, cells))
        + f"\n\nAligned policies judged against each other on the same prompts by `{judge}`, "
        + "outcomes from the candidate's side. "
        + _CI_NOTE
        + "\n"
    )


def write_report(
    rows: Sequence[Table2Row],
    out_dir: str | Path,
    judge: str,
    sources: Sequence[str] | None = None,
    extra: dict[str, Any] | None = None,
    head_to_head: Sequence[Mapping[str, Any]] = (),
    ece_sources: Mapping[str, str] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.json`` into ``out_dir``; returns their paths.

    ``head_to_head`` records (``candidate``, ``baseline`` and :meth:`WinTieLose.to_dict`'s keys)
    become the Markdown's head-to-head section and ``report.json``'s ``head_to_head`` list.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "report.md"
    body = render_markdown(rows, judge, sources, ece_sources)
    section = render_head_to_head(head_to_head, judge)
    md.write_text(
        "# RJS alignment report (paper Table 2 layout)\n\n"
        + body
        + ("\n" + section if section else "")
    )
    js = out_dir / "report.json"
    document = {
        "judge": judge,
        "ece_sources": dict(ece_sources or {}),
        "rows": [r.to_dict() for r in rows],
        "head_to_head": [dict(c) for c in head_to_head],
        **(extra or {}),
    }
    write_json_atomic(js, document)
    return md, js
